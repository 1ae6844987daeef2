"""Entry points: the edms-migrate command line, launching a run, operating the programme, reports, capacity."""
