"""The evidence key: what every lineage file, runs row and lease is signed with (transforms/storage/signed_files.py).

Derived from the patient key (HMAC-SHA256 of a fixed label), so it comes from where the patient key comes from
(Secret Manager, a file, an environment variable: key_source.py) and, like it, never travels in the job graph:
workers derive it in setup() from the key they fetched themselves.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from transforms.privacy.key_source import PatientKeyRef, key_for_worker

#: The fixed label the evidence key is derived under: a different label, a different key.
EVIDENCE_LABEL = b"edms-migrate evidence key v1"


def evidence_key(patient_key: bytes) -> bytes:
    """The key lineage files are signed with: HMAC-SHA256(patient key, fixed label)."""
    return hmac.new(patient_key, EVIDENCE_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True)
class EvidenceKeySource:
    """A writer's way to the evidence key on a worker: holds where the patient key is, never a key."""

    patient_key: PatientKeyRef

    def key(self) -> bytes:
        return evidence_key(key_for_worker(self.patient_key))


def evidence_key_source(ref: PatientKeyRef | None) -> EvidenceKeySource | None:
    return EvidenceKeySource(ref) if ref is not None else None
