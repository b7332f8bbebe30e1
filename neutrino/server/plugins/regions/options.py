"""The regions' options: a local server's central server, the central server's jobs."""

from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg

REGION_OPTS = [
    cfg.StrOpt("region_name", help="role local: the name of this server's region, as the "
                                   "central server's pods list it."),
    cfg.URIOpt("central_url", schemes=["http", "https"],
               help="role local: the central server's API, http://host:port."),
    cfg.FloatOpt("request_timeout", default=10.0, min=0.1,
                 help="Seconds a call between the central and a local server may take."),
    cfg.IntOpt("job_attempts", default=3, min=1,
               help="role central: how often a job runs before it is marked FAIL."),
    cfg.FloatOpt("job_retry_delay", default=0.5, min=0.0,
                 help="role central: seconds before a job's second attempt; each next "
                      "attempt waits twice as long."),
    cfg.FloatOpt("failed_job_redo_interval", default=60.0, min=0.0,
                 help="role central: seconds between runs of the failed jobs again; 0: "
                      "only when asked (PUT /v1.0/jobs/{id})."),
    cfg.IntOpt("job_workers", default=2, min=1,
               help="role central: threads that run jobs; a lock per resource keeps two "
                    "from working on one network at once."),
]

OPTIONS: dict[str, Sequence[cfg.Opt]] = {"region": REGION_OPTS}
