# PostgreSQL for the CRA read models: `nomad job run deploy/nomad/postgres.nomad.hcl`.
#
# The data directory lives on the host volume "postgres-data" (declare it in one Nomad client's
# configuration, see README.md), so the database stays on that client. The password comes only from the
# Nomad Variable nomad/jobs/postgres (POSTGRES_PASSWORD); the image reads it when it initialises an empty
# data directory. Postgres holds read models only: they can always be rebuilt from the NATS log
# (`cra replay`), so a lost volume costs a rebuild, not data.

variable "image" {
  type    = string
  default = "postgres:16"
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

job "postgres" {
  type        = "service"
  datacenters = var.datacenters

  # One instance on one volume: no canary, replace in place.
  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "5m"
    progress_deadline = "10m"
    auto_revert       = true
  }

  group "postgres" {
    count = 1

    volume "data" {
      type      = "host"
      source    = "postgres-data"
      read_only = false
    }

    network {
      port "db" {
        static = 5432
        to     = 5432
      }
    }

    # Nomad's own service checks are http or tcp (no script checks), so readiness is "accepts TCP on 5432".
    service {
      provider = "nomad"
      name     = "postgres"
      port     = "db"

      check {
        name     = "tcp"
        type     = "tcp"
        interval = "10s"
        timeout  = "3s"
      }
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "15s"
      mode     = "fail"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    task "postgres" {
      driver = "docker"

      config {
        image = var.image
        ports = ["db"]
      }

      volume_mount {
        volume      = "data"
        destination = "/var/lib/postgresql/data"
      }

      env {
        POSTGRES_USER = "cra"
        POSTGRES_DB   = "cra"
        # A subdirectory, so a volume root holding lost+found is not a problem for initdb.
        PGDATA = "/var/lib/postgresql/data/pgdata"
      }

      # noop: the password is used only to initialise an empty data directory; changing it later is an
      # ALTER ROLE (README.md), not a restart.
      template {
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/postgres" -}}
          POSTGRES_PASSWORD={{ .POSTGRES_PASSWORD | toJSON }}
          {{ end -}}
        EOT
        destination = "secrets/postgres.env"
        env         = true
        change_mode = "noop"
      }

      # SIGINT is Postgres' "fast" shutdown: roll back open transactions, checkpoint, exit.
      kill_signal  = "SIGINT"
      kill_timeout = "30s"

      resources {
        cpu    = 1000
        memory = 1024
      }
    }
  }
}
