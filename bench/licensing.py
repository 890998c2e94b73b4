"""Eligibility throughput: 10,000 (clinician, shift) pairs in one CheckEligibilityBatch call.

    python -m bench.licensing [--pairs 10000] [--mongodb-uri URI]   (after `make infra-up`)

The pairs come from the 2,000-shift bench instance (its clinicians' licences, its shifts'
patient jurisdictions and instants, under the real compact tables). Twice: each check carrying
its record inline, then naming a clinician whose record was first stored through the service
(change rows in a fresh database on the MongoDB-protocol server). The service runs in this
process behind a real gRPC server on localhost; the figure is the call's wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from pathlib import Path
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from licensing.grpc_api import SERVICE_NAME, register
from licensing.service import Licensing
from licensing.store import CompactStore, RecordStore
from vsm.common.v1 import common_pb2
from vsm.licensing.v1 import licensing_service_pb2 as pb
from vsm.licensing.v1 import licensing_service_pb2_grpc as pb_grpc
from vsm_platform.actor import Actor
from vsm_platform.changes import ChangeLog
from vsm_platform.clock import SystemClock
from vsm_platform.grpc_server import channel, start_server
from vsm_platform.mongo import connect

INSTANCE = Path(".cache/bench/s2000-c800-d14-seed1.json")
PARTNER = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_PARTNER, id="bench-credentials")


def _checkable(jurisdiction: str | None) -> bool:
    """ISO 3166-2 codes of the US and Canada (the instance also has Europe's, which the
    licensing service refuses as unknown jurisdictions)."""
    return bool(jurisdiction) and str(jurisdiction).startswith(("US-", "CA-"))


def _record(clinician: dict[str, Any]) -> pb.LicensingRecord:
    home = clinician.get("home")
    record = pb.LicensingRecord(clinician_id=clinician["id"], residence=home or "")
    if not _checkable(home):
        record.residence = ""
    for n, lic in enumerate(c for c in clinician["licences"] if _checkable(c["jurisdiction"])):
        record.licences.append(pb.Licence(
            licence_id=f"l{n}", jurisdiction=lic["jurisdiction"],
            profession=clinician["profession"], status=pb.STATUS_ACTIVE
            if lic["status"] == "active" else pb.STATUS_EXPIRED,
            expires=lic["expires"][:10], multistate=bool(lic.get("compacts")),
        ))  # fmt: skip
    return record


def _stamp(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(text)
    return stamp


async def _main(doc: dict[str, Any], pairs: int, mongodb_uri: str, stored: bool) -> None:
    rng = random.Random(7)
    clinicians = doc["clinicians"]
    by_profession: dict[str, list[dict[str, Any]]] = {}
    for shift in (s for s in doc["shifts"] if all(map(_checkable, s["patient_jurisdictions"]))):
        by_profession.setdefault(shift["profession"], []).append(shift)
    client = connect(mongodb_uri)
    rows = client[f"bench_licensing_{uuid.uuid4().hex[:8]}"]["changes"]
    changes = ChangeLog(rows, source="licensing", clock=SystemClock())
    compacts = CompactStore(changes)
    await compacts.load(Actor.service("bench"))
    licensing = Licensing(RecordStore(changes), compacts, SystemClock())
    server = await start_server("127.0.0.1:0", [register(licensing)], [SERVICE_NAME])
    client_channel = channel(f"127.0.0.1:{server.port}")
    stub = pb_grpc.LicensingServiceStub(client_channel)  # type: ignore[no-untyped-call]
    if stored:
        for clinician in clinicians:
            record = _record(clinician)
            if record.residence:
                await stub.SetResidence(
                    pb.SetResidenceRequest(
                        actor=PARTNER, clinician_id=clinician["id"], residence=record.residence
                    )
                )
            for licence in record.licences:
                await stub.AddLicence(
                    pb.AddLicenceRequest(
                        actor=PARTNER, clinician_id=clinician["id"], licence=licence
                    )
                )
    request = pb.CheckEligibilityBatchRequest()
    for _ in range(pairs):
        clinician = rng.choice(clinicians)
        shift = rng.choice(by_profession[clinician["profession"]])
        check = request.checks.add(
            profession=clinician["profession"],
            patient_jurisdictions=shift["patient_jurisdictions"],
        )
        check.interval.start.CopyFrom(_stamp(shift["start"]))
        check.interval.end.CopyFrom(_stamp(shift["end"]))
        if stored:
            check.clinician_id = clinician["id"]
        else:
            check.record.CopyFrom(_record(clinician))
    started = time.perf_counter()
    answer = await stub.CheckEligibilityBatch(request)
    seconds = time.perf_counter() - started
    allowed = sum(r.decision.allowed for r in answer.results)
    errors = sum(bool(r.error) for r in answer.results)
    kinds = sorted({r.error.split(":")[0].split(".", 1)[-1] for r in answer.results if r.error})
    source = "stored records (MongoDB)" if stored else "inline records"
    print(
        f"{pairs} pairs in one batch call, {source}: {seconds:.2f} s, "
        f"{pairs / seconds:,.0f} pairs/s; {allowed} allowed, {errors} refused as bad input {kinds}"
    )
    await client_channel.close()
    await server.stop(0)
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--mongodb-uri", default="mongodb://127.0.0.1:27017/")
    args = parser.parse_args()
    doc = json.loads(INSTANCE.read_text(encoding="utf-8"))

    async def both() -> None:
        for stored in (False, True):
            await _main(doc, args.pairs, args.mongodb_uri, stored)

    asyncio.run(both())


if __name__ == "__main__":
    main()
