"""``rxxl audit340b --engine spark``: every claim through :func:`rxxl.audit340b.audit_claims`,
on a Spark cluster.

Why patients, and why buckets
-----------------------------
Every 340B check reads one claim and the reference tables, and one look-back across that
claim's *patient's* encounters; no check reads another patient's claims or encounters. So
claims and encounters are co-partitioned by patient and ``audit_claims`` runs unchanged on
each piece, with the small reference tables (entity, sites, prescribers, MEF, orphan drugs)
loaded and validated once on the driver and shipped to every task with the function.

A piece per patient would be millions of pandas calls of a few rows each, where the fixed
cost of a call (building the registry's integer codes) dominates. The pieces are buckets
instead (a hash of the normalized patient id, modulo N: :func:`patient_buckets`), of about
:data:`CLAIMS_PER_BUCKET` claims: a patient's claims and encounters always share a
bucket, and each call is large enough for rxxl's vectorized code. A bucket's claims and
encounters are held in the executor's memory at once (docs/spark.md sizes it).

One rule is not per patient: a claim id may appear once in all the claims. Spark checks
that across the whole table (a ``groupBy`` on the claim id) before the audit runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from rxxl.audit340b import COMPLIANT, AuditPolicy, audit_claims
from rxxl.data.contracts import CLAIMS, ENCOUNTERS, REFERENCE_340B, Table
from rxxl.data.readers import load_reference, load_table
from rxxl.data.validate import DataValidationError, Part, check_parts
from rxxl.errors import InputError, RxxlError
from rxxl.outputs import refuse_inputs
from rxxl.spark import inputs
from rxxl.spark.inputs import FILE_COLUMN, ROW_COLUMN, is_uri, run_job
from rxxl.spark.output import refuse_existing, write_parquet_atomically
from rxxl.spark.session import spark_session

#: Claims per bucket of patients: about 150 MB of claims and their audit in pandas, with
#: room for the bucket's encounters, in an executor's default 1 GB of Python memory.
CLAIMS_PER_BUCKET = 250_000
BUCKET = "_rxxl_bucket"
#: The per-claim audit as written: ``audit_claims``' columns.
AUDIT_SCHEMA = pa.schema([
    ("claim_id", pa.string()), ("service_date", pa.date32()), ("entity_id", pa.string()),
    ("site_id", pa.string()), ("payer_type", pa.string()), ("account", pa.string()),
    ("checked", pa.bool_()), ("status", pa.string()), ("reasons", pa.string()),
    ("dollars_at_risk", pa.float64()), ("encounter_date", pa.date32()),
    ("encounter_site_id", pa.string()),
])
_AUDIT_DDL = ("claim_id string, service_date date, entity_id string, site_id string,"
              " payer_type string, account string, checked boolean, status string,"
              " reasons string, dollars_at_risk double, encounter_date date,"
              " encounter_site_id string")


@dataclass(frozen=True)
class AuditSummary:
    """What the command line prints: counts and dollars from Spark's aggregates."""

    claims: int
    checked: int
    #: Claims per status (compliant, review, violation).
    status: dict[str, int]
    #: ``reason, claims, dollars_at_risk`` of non-compliant claims, largest dollars first
    #: (as :func:`rxxl.audit340b.summarize_findings` orders them).
    reasons: pd.DataFrame
    out: str


def run_audit340b(claims: str, reference: str | Path, out: str, policy: AuditPolicy, *,
                  master: str | None = None, buckets: int | None = None) -> AuditSummary:
    """Audit the claims on Spark and write the per-claim audit as a Parquet directory.

    Parameters
    ----------
    claims : str
        Claims Parquet: a file or a folder of parts, a local path or any URI Spark reads.
    reference : str or path
        The folder of the 340B reference tables, readable by the driver (on Databricks a
        ``/dbfs/...`` or ``/Volumes/...`` path). Its ``encounters`` (Parquet) is read by
        Spark; the other five are loaded and validated here.
    out : str
        The Parquet directory to write (local path or URI); must not exist.
    policy : AuditPolicy
        As for the local audit.
    master : str, optional
        Spark master (default: the active session, else ``local[*]``).
    buckets : int, optional
        Patient buckets (default: one per :data:`CLAIMS_PER_BUCKET` claims, at least one
        per core of the cluster).

    Raises
    ------
    DataValidationError
        Claims, encounters or a reference table break their contract (every problem by
        file and row); nothing is written.
    RxxlError
        Spark or the output cannot be used; nothing is written.
    """
    claims, out = str(claims), str(out)
    _refuse_local_clash(claims, reference, out)
    spark = spark_session(master)
    # Refused before minutes of reading: the run would end refusing it anyway.
    refuse_existing(spark, out)
    small, encounters, problems = _reference(spark, reference)
    claim_frame = inputs.read_parquet(spark, claims, CLAIMS)
    found = run_job(lambda: claim_frame.mapInArrow(inputs.check_batches(CLAIMS),
                                                    inputs.PROBLEM_SCHEMA).collect())
    try:
        count = inputs.raise_problems(found, inputs.duplicate_key_problems(claim_frame, CLAIMS))
    except DataValidationError as error:
        problems.append(error)
    if problems:
        raise DataValidationError([p for e in problems for p in e.problems][
            :inputs.MAX_PROBLEMS], sum(e.total for e in problems))
    if count == 0:
        raise RxxlError(f"{claims}: no claims (the table has its header but no rows);"
                        " nothing to audit, and nothing was written")

    n = buckets or max(spark.sparkContext.defaultParallelism,
                       math.ceil(count / CLAIMS_PER_BUCKET))
    audited = (_bucketed(claim_frame, n).groupBy(BUCKET)
               .cogroup(_bucketed(encounters, n).groupBy(BUCKET))
               .applyInArrow(audit_bucket(small, policy), _AUDIT_DDL))
    return write_parquet_atomically(spark, audited, out,
                                    check=lambda written: _summary(spark, written, out))


def _refuse_local_clash(claims: str, reference: str | Path, out: str) -> None:
    if Path(out).suffix.lower() in (".csv", ".xlsx"):
        raise InputError(f"{out}: --engine spark writes the audit as a Parquet directory"
                         " (e.g. audit.parquet), not .csv or .xlsx")
    if is_uri(out):
        return
    locals_ = [] if is_uri(claims) else [claims]
    locals_ += [Path(reference) / f"{table.name}{suffix}" for table in REFERENCE_340B
                for suffix in (".csv", ".parquet", "")]
    refuse_inputs([out], locals_)


def _reference(spark: Any, folder: str | Path) -> tuple[dict[str, pd.DataFrame], Any,
                                                        list[DataValidationError]]:
    """The five small reference tables (validated here), the encounters as a Spark
    DataFrame (validated on the executors), and the problems found."""
    problems: list[DataValidationError] = []
    try:
        small = load_reference(folder, exclude=("encounters",))
    except DataValidationError as error:
        problems.append(error)
        small = {}
    folder = Path(folder)
    found = [p for p in (folder / "encounters.parquet", folder / "encounters",
                         folder / "encounters.csv") if p.exists()]
    if len(found) != 1:
        where = folder / "encounters"
        text = ("no encounters.csv, encounters.parquet or encounters/ directory; add the table"
                " there") if not found else (
            f"both {' and '.join(p.name for p in found)} hold encounters; keep one")
        problems.append(inputs.unreadable(str(where), text))
        return small, None, problems
    source = found[0]
    if source.suffix.lower() == ".csv" or (source.is_dir() and not any(
            p.suffix.lower() == ".parquet" for p in source.iterdir())):
        # CSV encounters are read by rxxl's CSV reader here and handed to Spark: Spark's
        # CSV parsing is not the contract's (encodings, quoting, leading zeros).
        try:
            table = load_table(source, ENCOUNTERS)
        except DataValidationError as error:
            problems.append(error)
            return small, None, problems
        table[FILE_COLUMN] = str(source)
        table[ROW_COLUMN] = np.arange(len(table), dtype=np.int64)
        table["encounter_date"] = table["encounter_date"].dt.date
        frame = spark.createDataFrame(pa.Table.from_pandas(table, preserve_index=False))
        return small, frame, problems
    frame = inputs.read_parquet(spark, str(source), ENCOUNTERS)
    try:
        inputs.validate(frame, ENCOUNTERS)
    except DataValidationError as error:
        problems.append(error)
    return small, frame, problems


def _bucketed(frame: Any, buckets: int) -> Any:
    """Each row's patient bucket, from the patient id *as the contract normalizes it*
    (:func:`patient_buckets`): a patient whose id is text in the claims and a number in
    the encounters, or carries a stray space, is one patient, as in the local audit."""
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("long")
    def bucket(patients: pd.Series) -> pd.Series:
        return pd.Series(patient_buckets(pa.array(patients, from_pandas=True), buckets))

    return frame.withColumn(BUCKET, bucket("patient_id"))


#: The contract of the one column a bucket is computed from.
_PATIENTS = Table("patients", "patient ids", (CLAIMS.column("patient_id"),))
#: SipHash key of the buckets (any fixed 16 characters: the same bucket on every executor).
_BUCKET_KEY = "rxxl-340b-bucket"


def patient_buckets(patient_ids: pa.Array, buckets: int) -> np.ndarray:
    """Bucket numbers ``0..buckets-1`` of patient ids, normalized by rxxl's own parser (the
    contract's identifier rules: trimmed text, whole numbers without ".0") and hashed
    (SipHash with a fixed key, the same on every machine).

    >>> spaced = patient_buckets(pa.array(["MRN1", " MRN1 "]), 1000)
    >>> bool(spaced[0] == spaced[1])
    True
    >>> bool((patient_buckets(pa.array([123, 7]), 8)
    ...       == patient_buckets(pa.array(["123", "7"]), 8)).all())
    True
    """
    part = Part("patients", ["patient_id"], {"patient_id": patient_ids}, len(patient_ids))
    outcome = check_parts([part], _PATIENTS, 1)
    if outcome.frame is None:
        # Validated before the audit: only a changed input gets here.
        raise RxxlError("patient_id: the input changed while the audit ran; run it again")
    ids = outcome.frame["patient_id"].astype(object).fillna("").to_numpy(dtype=object)
    hashes = pd.util.hash_array(ids, hash_key=_BUCKET_KEY)
    return (hashes % np.uint64(buckets)).astype(np.int64)


def _frame(table: pa.Table, contract: Table, source: str) -> pd.DataFrame:
    """A bucket's rows through the contract (normalized as the loader normalizes them).
    They were validated before the audit began, so a problem here means the input
    changed during the run."""
    names = [n for n in table.schema.names if n not in (FILE_COLUMN, ROW_COLUMN, BUCKET)]
    part = Part(source, names, {name: table.column(name) for name in names}, table.num_rows)
    outcome = check_parts([part], inputs.without_key(contract), inputs.MAX_PROBLEMS)
    if outcome.frame is None:
        raise RxxlError(f"{source}: the input changed while the audit ran; run it again")
    return outcome.frame


def audit_bucket(small: dict[str, pd.DataFrame], policy: AuditPolicy
                 ) -> Callable[[pa.Table, pa.Table], pa.Table]:
    """The function Spark runs per bucket: its claims and encounters through
    ``audit_claims`` with the shipped reference tables."""

    def audit(claims: pa.Table, encounters: pa.Table) -> pa.Table:
        if claims.num_rows == 0:
            return AUDIT_SCHEMA.empty_table()
        # The loader's order (files by name, rows in file order): of two visits on the
        # same day the audit names the one the local run names.
        encounters = encounters.sort_by([(FILE_COLUMN, "ascending"),
                                         (ROW_COLUMN, "ascending")])
        visits = _frame(encounters, ENCOUNTERS, "encounters")
        frame = _frame(claims, CLAIMS, "claims")
        return audit_table(audit_claims(frame, {**small, "encounters": visits}, policy))

    return audit


def audit_table(audit: pd.DataFrame) -> pa.Table:
    """``audit_claims``' result as Arrow, in :data:`AUDIT_SCHEMA` (unknown dollars null)."""
    columns = {}
    for field in AUDIT_SCHEMA:
        series = audit[field.name]
        if pa.types.is_date(field.type):
            days = series.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
            columns[field.name] = pa.array(days, type=pa.date32(), mask=np.isnat(days))
        elif field.name == "status":
            columns[field.name] = pa.array(series.astype(str).to_numpy(dtype=object))
        else:
            columns[field.name] = pa.array(series, type=field.type, from_pandas=True)
    return pa.table(columns, schema=AUDIT_SCHEMA)


def _summary(spark: Any, written: str, out: str) -> AuditSummary:
    """The printed summary from Spark's aggregates of the written audit (claims per status
    and reasons combination), never from the claims themselves."""
    from pyspark.sql import functions as F

    combos = run_job(lambda: spark.read.parquet(written).groupBy("status", "reasons").agg(
        F.count(F.lit(1)).alias("claims"),
        F.sum(F.col("checked").cast("long")).alias("checked"),
        F.sum("dollars_at_risk").alias("dollars_at_risk")).toArrow().to_pandas())
    status = combos.groupby("status")["claims"].sum()
    findings = combos[combos["status"] != COMPLIANT]
    findings = findings.assign(reason=findings["reasons"].str.split(";")).explode("reason")
    grouped = findings.groupby("reason")
    reasons = pd.DataFrame({
        "claims": grouped["claims"].sum().astype("int64"),
        "dollars_at_risk": grouped["dollars_at_risk"].sum(min_count=0),
    }).reset_index().sort_values(["dollars_at_risk", "claims"], ascending=False,
                                 ignore_index=True)
    return AuditSummary(
        claims=int(combos["claims"].sum()), checked=int(combos["checked"].sum()),
        status={name: int(value) for name, value in status.items()}, reasons=reasons,
        out=out)
