"""Beam's Flink and Spark job servers as local jars, fetched once with Maven, so every run after that is offline.

`edms-migrate fetch-jars` (and .ci/run) puts them in a cache folder ($EDMS_MIGRATE_JARS, default
~/.cache/edms-migrate/jars); a FlinkRunner or SparkRunner launch passes them as --flink_job_server_jar /
--spark_job_server_jar, so Beam's own downloader is never asked.

Two ways to a jar, tried in order:
1. Beam's published job-server jar (`beam-runners-flink-1.19-job-server`, `beam-runners-spark-3-job-server`) at
   the Python SDK's own version: what a trust with full Maven Central access gets.
2. Where a registry mirror does not serve those (this project's machines serve Beam's runner modules but not the
   job-server jars), the same job server assembled from its modules at JOB_SERVER_BEAM_VERSION: Maven resolves
   the runner and its dependencies into a folder, and a small "pathing" jar names them in its manifest's
   Class-Path with the driver as Main-Class, so `java -jar` starts it exactly as it starts Beam's jar.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import apache_beam

from pipelines.console.usage import UsageError

#: The newest Beam release whose Flink 1.19 runner, Spark 3 runner and job service this machine's Maven mirror
#: all serve (2.70 lacks the job service there). Measured compatible with the 2.77 Python SDK (docs/flink-spark.md).
JOB_SERVER_BEAM_VERSION = "2.62.0"
FLINK_VERSION = "1.19"  # Flink 1.19 runs on Java 17, and Beam 2.62 to 2.77 all have a runner for it
SPARK_VERSION = "3.5.1"  # Beam's Spark 3 job server compiles against 3.2 but runs on Java 17 only from 3.3
#: Java 17 closes the JDK's internals that Spark reaches into: the pathing jar opens them (manifest Add-Opens).
_OPENS = (
    "java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent "
    "java.util.concurrent.atomic sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar"
)


@dataclass(frozen=True)
class JobServer:
    """One engine's job server: Beam's published artifact, and how to assemble it from modules instead."""

    engine: str  # "flink" or "spark"
    artifact: str  # Beam's published job-server jar
    main_class: str
    modules: tuple[str, ...]  # groupId:artifactId:version, resolved with their dependencies

    @property
    def file_name(self) -> str:
        return f"{self.engine}-job-server.jar"


FLINK = JobServer(
    "flink",
    f"org.apache.beam:beam-runners-flink-{FLINK_VERSION}-job-server",
    "org.apache.beam.runners.flink.FlinkJobServerDriver",
    (f"org.apache.beam:beam-runners-flink-{FLINK_VERSION}:{JOB_SERVER_BEAM_VERSION}",),
)
SPARK = JobServer(
    "spark",
    "org.apache.beam:beam-runners-spark-3-job-server",
    "org.apache.beam.runners.spark.SparkJobServerDriver",
    (
        f"org.apache.beam:beam-runners-spark-3:{JOB_SERVER_BEAM_VERSION}",
        f"org.apache.beam:beam-runners-java-job-service:{JOB_SERVER_BEAM_VERSION}",
        f"org.apache.spark:spark-core_2.12:{SPARK_VERSION}",
        f"org.apache.spark:spark-streaming_2.12:{SPARK_VERSION}",
    ),
)
JOB_SERVERS = {"flink": FLINK, "spark": SPARK}


def cache_folder(environ: dict[str, str] | None = None) -> Path:
    environ = dict(os.environ) if environ is None else environ
    return Path(environ.get("EDMS_MIGRATE_JARS") or Path.home() / ".cache" / "edms-migrate" / "jars")


def cached_jar(engine: str, folder: Path | None = None) -> Path | None:
    """The engine's job-server jar in the cache, or None when it has not been fetched."""
    path = (folder or cache_folder()) / JOB_SERVERS[engine].file_name
    return path if path.is_file() else None


def _mvn(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    if not shutil.which("mvn"):
        raise UsageError("Maven (mvn) is needed to fetch the job-server jars: apt-get install maven")
    return subprocess.run(["mvn", "-q", "-B", *arguments], cwd=cwd, capture_output=True, text=True, check=False)


def _fetch_published(server: JobServer, folder: Path) -> bool:
    version = apache_beam.__version__
    done = _mvn("dependency:copy", f"-Dartifact={server.artifact}:{version}", f"-DoutputDirectory={folder}", cwd=folder)
    published = folder / f"{server.artifact.split(':')[1]}-{version}.jar"
    if done.returncode or not published.is_file():
        return False
    published.replace(folder / server.file_name)
    return True


def _pom(server: JobServer) -> str:
    dependencies = "".join(
        f"<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>"
        for g, a, v in (module.split(":") for module in server.modules)
    )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        f"<groupId>local.edms-migrate</groupId><artifactId>{server.engine}-job-server</artifactId>"
        f"<version>1</version><dependencies>{dependencies}</dependencies></project>"
    )


def _manifest_line(text: str) -> bytes:
    """A manifest line wrapped as the JAR format requires: 72 bytes, continuation lines start with a space."""
    data, parts = text.encode(), []
    parts.append(data[:72])
    data = data[72:]
    while data:
        parts.append(b" " + data[:71])
        data = data[71:]
    return b"\r\n".join(parts) + b"\r\n"


def write_pathing_jar(jar: Path, libraries: list[Path], main_class: str) -> None:
    """A jar holding only a manifest: `java -jar` runs MAIN_CLASS with LIBRARIES (relative to the jar) on the path."""
    class_path = " ".join(path.relative_to(jar.parent).as_posix() for path in sorted(libraries))
    opens = " ".join(f"java.base/{package}" for package in _OPENS.split())
    manifest = b"".join(
        _manifest_line(line)
        for line in ("Manifest-Version: 1.0", f"Main-Class: {main_class}", f"Class-Path: {class_path}")
    )
    manifest += _manifest_line(f"Add-Opens: {opens}") + b"\r\n"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", manifest)


def _assemble(server: JobServer, folder: Path) -> None:
    libraries = folder / f"{server.engine}-lib"
    with tempfile.TemporaryDirectory(prefix="edms-jars-") as scratch:
        Path(scratch, "pom.xml").write_text(_pom(server))
        done = _mvn("dependency:copy-dependencies", f"-DoutputDirectory={libraries}", cwd=Path(scratch))
    if done.returncode:
        error = next((line for line in done.stdout.splitlines() if "ERROR" in line), done.stderr.strip())
        raise UsageError(f"cannot fetch the {server.engine} job server with Maven: {error[:300]}")
    write_pathing_jar(folder / server.file_name, list(libraries.glob("*.jar")), server.main_class)


def fetch(engine: str, folder: Path | None = None) -> Path:
    """The engine's job-server jar, fetched into the cache unless it is there already."""
    folder = folder or cache_folder()
    found = cached_jar(engine, folder)
    if found:
        return found
    folder.mkdir(parents=True, exist_ok=True)
    server = JOB_SERVERS[engine]
    if not _fetch_published(server, folder):
        _assemble(server, folder)
    return folder / server.file_name


def fetch_jars_command(argv: list[str]) -> int:
    """`edms-migrate fetch-jars [flink] [spark]`: print each jar's path as NAME=PATH (for a shell's export)."""
    engines = argv or sorted(JOB_SERVERS)
    unknown = [engine for engine in engines if engine not in JOB_SERVERS]
    if unknown:
        raise UsageError(f"fetch-jars takes flink and/or spark, not {' '.join(unknown)}")
    for engine in engines:
        print(f"EDMS_{engine.upper()}_JOB_SERVER_JAR={fetch(engine)}")
    return 0
