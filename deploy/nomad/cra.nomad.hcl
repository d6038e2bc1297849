# The CRA services: one group per service, each task runs `node bin/cra.mjs start <service>`.
# Needs nats.nomad.hcl and postgres.nomad.hcl running, and the Nomad Variables described in README.md.
#
#   nomad job run -var image=ghcr.io/example/cra:<git-sha> \
#     -var public_url=https://cra.example.com -var 'mail_from=CRA <alerts@example.com>' \
#     deploy/nomad/cra.nomad.hcl
#
# Secrets come only from the Nomad Variable nomad/jobs/cra (JWT_SECRET, POSTGRES_PASSWORD or DATABASE_URL,
# SMTP_URL, METRICS_TOKEN, RATES_API_KEY), rendered by `template` blocks into the task's secrets/ directory. Nothing secret
# is written in this file.

variable "image" {
  type        = string
  default     = "ghcr.io/example/cra:latest"
  description = "The CRA image (the repository with its npm dependencies, WORKDIR at its root). Use an immutable tag so a revert really runs the old code."
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

variable "web_count" {
  type    = number
  default = 2
}

variable "command_count" {
  type    = number
  default = 2
}

variable "notifier_count" {
  type    = number
  default = 2
}

variable "public_url" {
  type        = string
  description = "Base of the links in emails, e.g. https://cra.example.com (PUBLIC_URL)."
}

variable "mail_from" {
  type        = string
  description = "Sender of the emails, e.g. CRA <alerts@example.com> (MAIL_FROM)."
}

variable "rates_provider" {
  type    = string
  default = "frankfurter"
}

variable "rates_schedule" {
  type    = string
  default = "0 17 * * *"
}

variable "rates_url" {
  type        = string
  default     = ""
  description = "Provider base URL override; empty means the provider's public URL."
}

variable "trusted_proxies" {
  type        = string
  description = "Addresses or CIDR ranges of the load balancer in front of the web (TRUST_PROXY): its X-Forwarded-For gives the client address that per-address rate limits key on"
  default     = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
}

variable "cra_schema" {
  type    = string
  default = "cra"
}

variable "log_level" {
  type    = string
  default = "info"
}

locals {
  # Where NATS and Postgres are, found through Nomad's service discovery (services "nats" and "postgres"
  # registered by nats.nomad.hcl and postgres.nomad.hcl). When a service is not registered yet the value is
  # deliberately invalid, so the task stops with one config error line naming the variable (instead of
  # falling back to the embedded dev servers) and is restarted with freshly rendered templates
  # (restart.render_templates). change_mode is "noop": a NATS node moving does not restart every CRA task,
  # because the NATS client learns the whole cluster from the server it reaches and reconnects by itself.
  # Set DATABASE_URL in the variable to use a Postgres outside Nomad; otherwise it is built from
  # POSTGRES_PASSWORD (the same password as in nomad/jobs/postgres; keep it URL-safe, e.g. hex).
  connections_env = <<-EOT
    NATS_URL={{ range $i, $s := nomadService "nats" }}{{ if $i }},{{ end }}nats://{{ .Address }}:{{ .Port }}{{ else }}nats-service-not-registered{{ end }}
    {{ with nomadVar "nomad/jobs/cra" -}}
    {{ if .DATABASE_URL.Value -}}
    DATABASE_URL={{ .DATABASE_URL | toJSON }}
    {{ else -}}
    {{ $password := .POSTGRES_PASSWORD.Value | urlquery -}}
    DATABASE_URL={{ range $i, $s := nomadService "postgres" }}{{ if eq $i 0 }}postgres://cra:{{ $password }}@{{ .Address }}:{{ .Port }}/cra{{ end }}{{ else }}postgres-service-not-registered{{ end }}
    {{ end -}}
    {{ end -}}
  EOT

  # The cookie and link-token secret, and the master key of personal data; every service resolves them at start.
  # A key missing from the variable renders as null, which the config refuses, so the task stops instead of
  # running with a per-process dev secret. Rotating JWT_SECRET restarts the tasks (change_mode "restart") and
  # logs everybody out; CRA_MASTER_KEY is never rotated by a put (docs/design.md §9: it wraps every person's key).
  jwt_env = <<-EOT
    {{ with nomadVar "nomad/jobs/cra" -}}
    JWT_SECRET={{ .JWT_SECRET | toJSON }}
    CRA_MASTER_KEY={{ .CRA_MASTER_KEY | toJSON }}
    {{ end -}}
  EOT

  # Only the notifier sends mail: smtp(s)://<user>:<password>@<host>:<port>. Missing, it renders as null and the
  # config refuses it (not an smtp URL) rather than falling back to the dev mailbox.
  smtp_env = <<-EOT
    {{ with nomadVar "nomad/jobs/cra" -}}
    SMTP_URL={{ .SMTP_URL | toJSON }}
    {{ end -}}
  EOT

  # Only web serves /metrics, to the bearer of this token (Prometheus, which keeps a copy: see README.md). Missing, it
  # renders as null and the config refuses it (too short), so web stops rather than serve metrics to nobody.
  metrics_env = <<-EOT
    {{ with nomadVar "nomad/jobs/cra" -}}
    METRICS_TOKEN={{ .METRICS_TOKEN | toJSON }}
    {{ end -}}
  EOT

  # Only the scheduler talks to the rates provider; left unset when the variable has no RATES_API_KEY.
  rates_env = <<-EOT
    {{ with nomadVar "nomad/jobs/cra" -}}
    {{ with .RATES_API_KEY -}}
    RATES_API_KEY={{ . | toJSON }}
    {{ end -}}
    {{ end -}}
  EOT
}

job "cra" {
  type        = "service"
  datacenters = var.datacenters

  # Rolling updates gated on health: one canary per group first (for web: its /healthz check; for the
  # others: running for min_healthy_time), promoted once healthy, then one allocation at a time; a failed
  # deployment reverts to the last stable version.
  update {
    max_parallel      = 1
    canary            = 1
    auto_promote      = true
    auto_revert       = true
    health_check      = "checks"
    min_healthy_time  = "15s"
    healthy_deadline  = "3m"
    progress_deadline = "10m"
  }

  group "web" {
    count = var.web_count

    # Deregister the service, then wait, before the task is signalled, so no new request reaches it.
    shutdown_delay = "5s"

    network {
      port "http" {
        to = 7007
      }
    }

    # /healthz answers 200 only when NATS and Postgres are reachable. It gates deployments and routing; no
    # check_restart, because restarting web does not fix an unreachable NATS or Postgres.
    # /metrics is the Prometheus scrape target (tag "prometheus", meta metrics_path, meta metrics_auth): it answers
    # only with "Authorization: Bearer <METRICS_TOKEN>", so it gets no Nomad check (a check cannot read a Variable).
    service {
      provider = "nomad"
      name     = "cra-web"
      port     = "http"
      tags     = ["http", "prometheus"]

      meta {
        metrics_path = "/metrics"
        metrics_auth = "bearer"
      }

      check {
        name     = "healthz"
        type     = "http"
        path     = "/healthz"
        interval = "10s"
        timeout  = "3s"
      }
    }

    restart {
      attempts         = 3
      interval         = "5m"
      delay            = "15s"
      mode             = "fail"
      render_templates = true
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    task "web" {
      driver = "docker"

      config {
        image   = var.image
        command = "node"
        args    = ["bin/cra.mjs", "start", "web"]
        ports   = ["http"]
      }

      env {
        PORT         = "${NOMAD_PORT_http}"
        # Every interface of the task's own network: the port Nomad maps in does not arrive on loopback (the default).
        HOST         = "0.0.0.0"
        PUBLIC_URL   = var.public_url
        TRUST_PROXY  = var.trusted_proxies
        CRA_SCHEMA   = var.cra_schema
        CRA_STREAM_REPLICAS = "3"
        LOG_LEVEL    = var.log_level
        CRA_DATA_DIR = "${NOMAD_TASK_DIR}/cra"
      }

      template {
        data        = local.connections_env
        destination = "secrets/connections.env"
        env         = true
        change_mode = "noop"
      }

      template {
        data        = local.jwt_env
        destination = "secrets/jwt.env"
        env         = true
        change_mode = "restart"
      }

      template {
        data        = local.metrics_env
        destination = "secrets/metrics.env"
        env         = true
        change_mode = "restart"
      }

      # The services close on SIGTERM within 10 s (platform/shutdown.ts); SIGKILL only after kill_timeout.
      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      resources {
        cpu    = 300
        memory = 384
      }
    }
  }

  group "command" {
    count = var.command_count

    restart {
      attempts         = 3
      interval         = "5m"
      delay            = "15s"
      mode             = "fail"
      render_templates = true
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    task "command" {
      driver = "docker"

      config {
        image   = var.image
        command = "node"
        args    = ["bin/cra.mjs", "start", "command"]
      }

      env {
        PUBLIC_URL   = var.public_url
        CRA_SCHEMA   = var.cra_schema
        CRA_STREAM_REPLICAS = "3"
        LOG_LEVEL    = var.log_level
        CRA_DATA_DIR = "${NOMAD_TASK_DIR}/cra"
      }

      template {
        data        = local.connections_env
        destination = "secrets/connections.env"
        env         = true
        change_mode = "noop"
      }

      template {
        data        = local.jwt_env
        destination = "secrets/jwt.env"
        env         = true
        change_mode = "restart"
      }

      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      resources {
        cpu    = 300
        memory = 384
      }
    }
  }

  group "projector" {
    # One active consumer per projection. A second instance (e.g. the canary during an update) is harmless,
    # because checkpoints are row-locked, but one is the design.
    count = 1

    restart {
      attempts         = 3
      interval         = "5m"
      delay            = "15s"
      mode             = "fail"
      render_templates = true
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    task "projector" {
      driver = "docker"

      config {
        image   = var.image
        command = "node"
        args    = ["bin/cra.mjs", "start", "projector"]
      }

      env {
        PUBLIC_URL   = var.public_url
        CRA_SCHEMA   = var.cra_schema
        CRA_STREAM_REPLICAS = "3"
        LOG_LEVEL    = var.log_level
        CRA_DATA_DIR = "${NOMAD_TASK_DIR}/cra"
      }

      template {
        data        = local.connections_env
        destination = "secrets/connections.env"
        env         = true
        change_mode = "noop"
      }

      template {
        data        = local.jwt_env
        destination = "secrets/jwt.env"
        env         = true
        change_mode = "restart"
      }

      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      resources {
        cpu    = 300
        memory = 384
      }
    }
  }

  group "notifier" {
    count = var.notifier_count

    restart {
      attempts         = 3
      interval         = "5m"
      delay            = "15s"
      mode             = "fail"
      render_templates = true
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    task "notifier" {
      driver = "docker"

      config {
        image   = var.image
        command = "node"
        args    = ["bin/cra.mjs", "start", "notifier"]
      }

      env {
        PUBLIC_URL   = var.public_url
        MAIL_FROM    = var.mail_from
        CRA_SCHEMA   = var.cra_schema
        CRA_STREAM_REPLICAS = "3"
        LOG_LEVEL    = var.log_level
        CRA_DATA_DIR = "${NOMAD_TASK_DIR}/cra"
      }

      template {
        data        = local.connections_env
        destination = "secrets/connections.env"
        env         = true
        change_mode = "noop"
      }

      template {
        data        = local.jwt_env
        destination = "secrets/jwt.env"
        env         = true
        change_mode = "restart"
      }

      template {
        data        = local.smtp_env
        destination = "secrets/smtp.env"
        env         = true
        change_mode = "restart"
      }

      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      resources {
        cpu    = 300
        memory = 384
      }
    }
  }

  group "scheduler" {
    # One is enough; a duplicate run is harmless (the same asOf is the same run, stored once).
    count = 1

    restart {
      attempts         = 3
      interval         = "5m"
      delay            = "15s"
      mode             = "fail"
      render_templates = true
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    task "scheduler" {
      driver = "docker"

      config {
        image   = var.image
        command = "node"
        args    = ["bin/cra.mjs", "start", "scheduler"]
      }

      env {
        PUBLIC_URL     = var.public_url
        RATES_PROVIDER = var.rates_provider
        RATES_SCHEDULE = var.rates_schedule
        RATES_URL      = var.rates_url
        CRA_SCHEMA     = var.cra_schema
        CRA_STREAM_REPLICAS = "3"
        LOG_LEVEL      = var.log_level
        CRA_DATA_DIR   = "${NOMAD_TASK_DIR}/cra"
      }

      template {
        data        = local.connections_env
        destination = "secrets/connections.env"
        env         = true
        change_mode = "noop"
      }

      template {
        data        = local.jwt_env
        destination = "secrets/jwt.env"
        env         = true
        change_mode = "restart"
      }

      template {
        data        = local.rates_env
        destination = "secrets/rates.env"
        env         = true
        change_mode = "restart"
      }

      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      resources {
        cpu    = 200
        memory = 256
      }
    }
  }
}
