"""Apache Flink and Apache Spark through Beam's portable runners: job-server jars, launch checks, a worker pool."""
