"""What a real job adds for a plugin (bench/real_plugins.py), beyond what the plugin's own
devstack/settings enables: trimmed from the plugin's own Zuul job (devstack_services /
devstack_localrc in its .zuul.yaml or zuul.d/), keeping only what its hooks test for or
read. Keys:
  settings  [settings] of plugins.toml (the job's devstack_localrc)
  enable    [services] enable (in-tree services the job runs, e.g. tempest-full's)
  dest      [stack] dest, when the plugin assumes DevStack's /opt/stack
  with      other plugins the job enables and this one needs: found among the --with
            directories, registered before it, and not run on their own
"""

BASE = ["key", "mysql", "rabbit"]      # what every devstack-tempest job runs

JOBS: dict[str, dict] = {
    # devstack-plugin-open-cas-tempest: tempest-full-py3 with cinder
    "devstack-plugin-open-cas": {"settings": {"ENABLE_VOLUME_MULTIATTACH": "False"},
                                 "enable": ["nova", "n-cpu", "cinder", "c-vol", "tempest"]},
    # ironic-base: neutron with the OVS agent, glance, swift, nova
    # (and /opt/stack as DEST: its lib/ironic names /opt/stack/data/venv and the like)
    "ironic": {"dest": "/opt/stack",
               "enable": [*BASE, "neutron", "q-svc", "q-agt", "q-dhcp", "q-l3", "glance",
                          "g-api", "swift", "s-proxy", "nova", "n-api", "n-cpu",
                          "placement-api", "tempest"]},
    # manila-tempest-plugin jobs
    "manila": {"enable": ["tempest"]},
    # networking-bagpipe's tempest job: ML2 with the OVS agent, not OVN
    "networking-bagpipe": {"settings": {"Q_AGENT": "openvswitch",
                                        "Q_ML2_PLUGIN_MECHANISM_DRIVERS": "openvswitch"},
                           "enable": ["neutron", "q-svc", "q-agt", "tempest"]},
    # ec2-api-functional-neutron: nova, glance, neutron
    "ec2-api": {"enable": ["nova", "n-api", "glance", "g-api", "neutron", "q-svc",
                           "tempest"]},
    # neutron-tempest-plugin jobs: neutron's API with the OVS agent and QoS
    "neutron": {"enable": ["neutron-api", "q-svc", "q-agt", "q-qos", "tempest"]},
    "barbican": {"enable": [*BASE, "tempest"]},
    "designate": {"enable": [*BASE, "designate", "designate-api", "designate-central",
                             "designate-producer", "designate-worker", "designate-mdns",
                             "designate-agent", "designate-sink", "tempest"]},
    "heat": {"enable": [*BASE, "h-api", "h-api-cfn", "h-eng", "heat", "tempest"]},
    # octavia's amphorae need neutron, nova and glance (its plugin dies without q-svc)
    "octavia": {"enable": [*BASE, "neutron", "q-svc", "q-agt", "nova", "n-api", "n-cpu",
                           "placement-api", "glance", "g-api", "octavia", "o-api", "o-cw",
                           "o-hm", "o-hk", "tempest"]},
    # starlingx config: no DevStack job upstream; its settings require the integ and update
    # plugins, and its hooks install sysinv and its client only when they are enabled
    "config": {"with": ["update", "integ"], "enable": ["cgtsclient", "sysinv"]},
    # heat-dashboard-integration-tests: horizon
    "heat-dashboard": {"enable": [*BASE, "horizon", "heat-dashboard"]},
    # neutron-tempest-plugin's taas jobs: ML2 with the OVS agent and taas's agent extension
    "tap-as-a-service": {"settings": {"Q_AGENT": "openvswitch",
                                      "Q_ML2_PLUGIN_MECHANISM_DRIVERS": "openvswitch"},
                         "enable": [*BASE, "neutron", "q-svc", "q-agt", "taas",
                                    "taas_openvswitch_agent", "tempest"]},
    # networking-bgpvpn-bagpipe-functional: the bagpipe driver and its BGP speaker
    "networking-bgpvpn": {"with": ["networking-bagpipe"],
                          "settings": {"NETWORKING_BGPVPN_DRIVER":
                                       "BGPVPN:BaGPipe:networking_bgpvpn.neutron.services."
                                       "service_drivers.bagpipe.bagpipe_v2."
                                       "BaGPipeBGPVPNDriver:default",
                                       "BAGPIPE_DATAPLANE_DRIVER_IPVPN": "ovs",
                                       "BAGPIPE_BGP_PEERS": "-", "Q_AGENT": "openvswitch",
                                       "Q_ML2_PLUGIN_MECHANISM_DRIVERS": "openvswitch"},
                          "enable": [*BASE, "neutron", "q-svc", "q-agt", "b-bgp", "horizon",
                                     "tempest"]},
    # devstack-plugin-ceph-tempest-py3: cinder, glance and nova on ceph (cephadm)
    "devstack-plugin-ceph": {"settings": {"ENABLE_FILE_INJECTION": "false",
                                          "ENABLE_VOLUME_MULTIATTACH": "false",
                                          "DISABLE_CEPHADM_POST_DEPLOY": "True"},
                             "enable": [*BASE, "cinder", "c-api", "c-vol", "c-sch",
                                        "glance", "g-api", "nova", "n-api", "n-cpu",
                                        "tempest"]},
    # magnum-tempest-plugin's jobs: heat, and magnum's API and conductor
    "magnum": {"enable": [*BASE, "h-api", "h-eng", "heat", "tempest"]},
    # zun-tempest-base: zun with docker, its database in sql
    "zun": {"settings": {"ZUN_USE_UWSGI": "true", "ZUN_DRIVER": "docker",
                         "ZUN_DB_TYPE": "sql", "ENABLE_CONTAINERD_CRI": "true"},
            "enable": [*BASE, "zun-api", "zun-compute", "zun-wsproxy", "tempest"]},
}
