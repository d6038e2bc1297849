# A three-node NATS JetStream cluster for CRA: `nomad job run deploy/nomad/nats.nomad.hcl`.
#
# Each node keeps its JetStream file store on the host volume "nats-jetstream" (declare it in the client
# configuration of at least three Nomad clients, see README.md); distinct_hosts puts one node per client.
# Clients connect on 4222 (service "nats", which cra.nomad.hcl discovers), routes use 6222 (service
# "nats-cluster", which the nodes discover to find each other), monitoring listens on 8222.
#
# Stream replicas: in production the app's stream CRA_EVENTS is meant to have 3 replicas (docs/design.md §3), one
# copy on each node, so a node can be lost or restarted without losing or stopping the log. With fewer than
# three nodes a replicas-3 stream cannot be created. cra.nomad.hcl sets CRA_STREAM_REPLICAS = "3" for this.

# Pinned to an exact release, never a moving tag (a restart must not change the server under the cluster). 2.12.15
# has nats-server PR #7165, "Ephemeral consumers always selects an online server" (in 2.12.0, and in 2.11 from 2.11.8):
# up to 2.11.7 an ephemeral consumer could be placed on an offline node, its creation never answered, and with one node
# of three down a third of consumer creations hung. CRA no longer creates a consumer per command (it loads aggregates
# with direct gets), but its readers (projector, replay, `cra events`) still create ordered consumers. Coming from
# nats:2.10, roll through nats:2.11.17 first, one minor version at a time, each node healthy before the next.
variable "image" {
  type    = string
  default = "nats:2.12.15"
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

variable "max_file_store" {
  type        = string
  default     = "20G"
  description = "JetStream file storage limit per node (the CRA log has no age or size limit of its own)."
}

job "nats" {
  type        = "service"
  datacenters = var.datacenters

  # One node at a time, and only once the previous one is healthy again, so two of three always keep the
  # JetStream quorum. No canary: a fourth node would need a fourth volume.
  update {
    max_parallel      = 1
    health_check      = "checks"
    min_healthy_time  = "30s"
    healthy_deadline  = "5m"
    progress_deadline = "15m"
    auto_revert       = true
    stagger           = "30s"
  }

  group "nats" {
    count = 3

    constraint {
      operator = "distinct_hosts"
      value    = "true"
    }

    volume "jetstream" {
      type      = "host"
      source    = "nats-jetstream"
      read_only = false
    }

    network {
      port "client" {
        static = 4222
        to     = 4222
      }
      port "cluster" {
        static = 6222
        to     = 6222
      }
      port "monitor" {
        static = 8222
        to     = 8222
      }
    }

    service {
      provider = "nomad"
      name     = "nats"
      port     = "client"

      check {
        name     = "jetstream"
        type     = "http"
        port     = "monitor"
        path     = "/healthz?js-enabled-only=true"
        interval = "10s"
        timeout  = "3s"
      }
    }

    service {
      provider = "nomad"
      name     = "nats-cluster"
      port     = "cluster"
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

    task "nats" {
      driver = "docker"

      config {
        image = var.image
        args  = ["--config", "/local/nats.conf"]
        ports = ["client", "cluster", "monitor"]
      }

      volume_mount {
        volume      = "jetstream"
        destination = "/data"
      }

      # The routes list is the node itself plus the registered "nats-cluster" services; a change reloads the
      # configuration (SIGHUP) instead of restarting the node. A node that starts before the others are
      # registered has only its own route (a JetStream cluster refuses to start with none), waits without a
      # meta leader, and joins the others when the re-rendered routes are reloaded.
      template {
        destination   = "local/nats.conf"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = <<-EOT
          server_name: "nats-{{ env "NOMAD_ALLOC_INDEX" }}"
          listen: "0.0.0.0:4222"
          http: "0.0.0.0:8222"
          client_advertise: "{{ env "NOMAD_HOST_ADDR_client" }}"

          # Clients and routes pinged every 2 s, 2 unanswered: a frozen node (its sockets open, nothing answered) is
          # dropped by its peers within ~6 s, with the queue subscriptions of the clients that have left it.
          ping_interval: "2s"
          ping_max: 2

          # Durability: sync_interval always fsyncs every write (messages, consumer state, Raft log) before it is
          # acknowledged. The default fsyncs every 2 minutes: Jepsen's 2025 analysis of NATS lost acknowledged
          # writes when every node crashed at once within that window. This costs write throughput (each append
          # waits for the disks of a quorum); see README.md, "Durability".
          jetstream {
            store_dir: "/data/jetstream"
            max_file_store: ${var.max_file_store}
            max_memory_store: 256M
            sync_interval: always
          }

          cluster {
            name: "cra"
            listen: "0.0.0.0:6222"
            advertise: "{{ env "NOMAD_HOST_ADDR_cluster" }}"
            routes: [
              "nats-route://{{ env "NOMAD_HOST_ADDR_cluster" }}"
          {{- range nomadService "nats-cluster" }}
              "nats-route://{{ .Address }}:{{ .Port }}"
          {{- end }}
            ]
          }
        EOT
      }

      # SIGTERM: nats-server shuts down cleanly (JetStream flushes its store, clients reconnect to the other
      # nodes). kill_timeout is capped by the Nomad client's max_kill_timeout (30s by default).
      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      resources {
        cpu    = 500
        memory = 1024
      }
    }
  }
}
