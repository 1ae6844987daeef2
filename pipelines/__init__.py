"""Entry points: options, the pipeline graph and the edms-migrate command line."""
