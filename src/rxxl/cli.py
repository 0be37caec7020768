"""The ``rxxl`` command line."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import os
import signal
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from rxxl import __version__, denials, generics, inventory, roi, spark, variance
from rxxl.addin import cli as addin_cli
from rxxl.audit340b import CHECKED_COLUMNS as audit340b_columns
from rxxl.audit340b import DEFAULT_LOOKBACK_DAYS, AuditPolicy, audit_claims, summarize_findings
from rxxl.constants import TRACER_SEED, TRACERS_PER_ENTITY
from rxxl.data import DataValidationError, load_claims_and_reference, load_table, map_parts
from rxxl.data.collapsed import COUNT, load_collapsed
from rxxl.data.contracts import EXAMPLE_TABLES, REFERENCE_340B, TABLES
from rxxl.data.phi import fault_text
from rxxl.errors import InputError, RxxlError
from rxxl.outputs import refuse_inputs, write_table
from rxxl.parsing import parse_dates

#: Discount rate for the example capital request (a health system's cost of capital).
EXAMPLE_DISCOUNT_RATE = 0.06


def _money(value: float) -> str:
    """Finance style: thousands separators, negatives in parentheses, zero as a dash."""
    if value == 0:
        return "-"
    text = f"{abs(value):,.0f}"
    return f"({text})" if value < 0 else text


def _percent(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.1%}"


def _read(folder: Path | None, name: str) -> pd.DataFrame:
    """An example table, bundled or from ``folder``, loaded through its contract."""
    if folder is None:
        with resources.as_file(resources.files("rxxl") / "example_data" / name) as path:
            return load_table(path, EXAMPLE_TABLES[name])
    path = folder / name
    if not path.exists():
        raise RxxlError(f"{path}: file not found (the folder needs {name})")
    return load_table(path, EXAMPLE_TABLES[name])


def _budget_section(lines: pd.DataFrame) -> list[str]:
    actual, budget = lines["actual"], lines["budget"]
    flags = variance.favorability(actual, budget, lines["line_type"])
    material = variance.is_material(actual, budget)
    flex = variance.flex_variance(actual, budget, lines["budget_volume"], lines["actual_volume"])
    out = ["Budget variance (month)",
           f"  {'line':<28}{'budget':>12}{'actual':>12}{'variance':>12}{'%':>8}  F/U"
           f"{'volume var':>13}{'spending var':>14}"]
    for i, row in lines.iterrows():
        mark = " *" if material.iloc[i] else ""
        out.append(
            f"  {row['line']:<28}{_money(row['budget']):>12}{_money(row['actual']):>12}"
            f"{_money(row['actual'] - row['budget']):>12}"
            f"{_percent(variance.variance_pct(row['actual'], row['budget'])):>8}"
            f"  {flags.iloc[i]}{mark:<2}"
            f"{_money(flex['volume_variance'].iloc[i]):>11}"
            f"{_money(flex['spending_variance'].iloc[i]):>14}"
        )
    out.append("  * material: |variance| >= $10,000 and >= 5%; volume variance flexes the budget"
               " by the volume driver (adjusted patient days, visits, prescriptions)")
    return out


def _drug_section(drugs: pd.DataFrame) -> list[str]:
    table = variance.price_volume_mix(
        drugs["actual_price"], drugs["budget_price"], drugs["actual_qty"], drugs["budget_qty"]
    )
    totals = table[["budget_spend", "actual_spend", "price", "volume", "mix", "returns"]].sum()
    # Net returns are their own driver; shown only when there are some.
    returns = f"  returns {_money(totals['returns'])}" if totals["returns"] else ""
    out = ["", "Drug spend: price / volume / mix",
           f"  budget {_money(totals['budget_spend'])}  ->  price {_money(totals['price'])}"
           f"  volume {_money(totals['volume'])}  mix {_money(totals['mix'])}{returns}"
           f"  ->  actual {_money(totals['actual_spend'])}",
           "  top drivers:"]
    table.insert(0, "drug", drugs["drug"])
    ranked = table.reindex(table["total_variance"].abs().sort_values(ascending=False).index)
    for _, row in ranked.head(5).iterrows():
        status = "" if row["line_status"] == "continuing" else f" [{row['line_status']}]"
        returned = f", returns {_money(row['returns'])}" if row["returns"] else ""
        out.append(
            f"    {row['drug'][:38]:<38}{_money(row['total_variance']):>12}"
            f"  (price {_money(row['price'])}, volume {_money(row['volume'])},"
            f" mix {_money(row['mix'])}{returned}){status}"
        )
    return out


def _generics_section(drugs: pd.DataFrame) -> list[str]:
    dispensed = drugs[drugs["claims"] > 0]
    codes, claims = dispensed["mony_code"], dispensed["claims"]
    savings = generics.generic_switch_opportunity(
        codes, dispensed["actual_qty"], dispensed["actual_price"], dispensed["generic_unit_cost"]
    ).sum()
    return [
        "",
        "Generics (by claims)",
        f"  generic dispensing rate {_percent(generics.generic_dispensing_rate(codes, claims))}"
        f"   generic efficiency {_percent(generics.generic_efficiency_rate(codes, claims))}"
        f"   generic switch opportunity ${_money(savings)} this month",
    ]


def _inventory_section(stock: pd.DataFrame) -> list[str]:
    out = ["", "Inventory (annualized)"]
    for _, row in stock.iterrows():
        snapshots = [row["beginning_inventory"], row["ending_inventory"]]
        turns = inventory.inventory_turns(row["cogs"], snapshots, row["days_in_period"])
        days = inventory.days_on_hand(row["cogs"], snapshots, row["days_in_period"])
        out.append(f"  {row['location']:<28}{turns:>6.1f} turns{days:>7.1f} days on hand")
    return out


def _capital_section(request: pd.DataFrame, rate: float) -> list[str]:
    flows = request["cash_flow"].to_numpy(dtype=float)
    value = roi.npv(rate, flows[1:]) + flows[0]
    payback = roi.payback(flows)
    discounted = roi.discounted_payback(rate, flows)
    return [
        "",
        f"Capital request: {request['description'].iloc[0]}",
        f"  NPV at {rate:.0%} ${_money(value)}   IRR {_percent(roi.irr(flows))}"
        f"   MIRR {_percent(roi.mirr(flows, rate, rate))}   ROI {_percent(roi.simple_roi(flows))}",
        f"  payback {payback:.2f} years   discounted payback {discounted:.2f} years",
    ]


def run_example(folder: Path | None) -> str:
    """Compute the example metrics and return them as a printable report."""
    lines = [f"rxxl {__version__}: example figures for one month at a mid-size hospital", ""]
    lines += _budget_section(_read(folder, "budget_lines.csv"))
    drugs = _read(folder, "drug_spend.csv")
    lines += _drug_section(drugs)
    lines += _generics_section(drugs)
    lines += _inventory_section(_read(folder, "inventory.csv"))
    lines += _capital_section(_read(folder, "capital_request.csv"), EXAMPLE_DISCOUNT_RATE)
    return "\n".join(lines)


def run_sample(out: Path, size: str, seed: int, end_month: str) -> str:
    """Write the synthetic health system and return a summary of what was written."""
    from rxxl.data.synthetic import generate  # only here: every other command starts sooner

    manifest = generate(out, size=size, seed=seed, end_month=end_month)
    counts = ", ".join(f"{name} {count:,}" for name, count in manifest["row_counts"].items())
    kinds = sorted({problem["kind"] for problem in manifest["planted"]})
    return (
        f"rxxl sample: {size} synthetic health system, {len(manifest['months'])} months to"
        f" {end_month}, seed {seed}, in {out}\n  rows: {counts}\n"
        f"  planted problems: {len(manifest['planted'])} ({', '.join(kinds)});"
        f" listed in {out / 'manifest.json'}"
    )


def run_audit340b(claims_path: Path, reference: Path, out: Path, policy: AuditPolicy,
                  sheet: str | None = None) -> str:
    """Audit the claims (``sheet``: of a claims workbook), write the per-claim result and
    return a short summary."""
    # Each reference table's names (NAME.csv, NAME.parquet, NAME/): a result written as
    # one would replace it, or make it given twice.
    refuse_inputs([out], [claims_path, *(Path(reference) / f"{table.name}{suffix}"
                                         for table in REFERENCE_340B
                                         for suffix in (".csv", ".parquet", ""))])
    with tqdm(total=3, desc="rxxl audit340b", unit="step", disable=None,
              file=sys.stderr) as progress:
        progress.set_postfix_str("loading claims and 340B reference")
        # The columns the checks read, codes kept as categories: a third less loading.
        claims, tables = load_claims_and_reference(
            claims_path, reference, sheet=sheet,
            columns=("claim_id", *audit340b_columns), categorical=True)
        if claims.empty:
            # An empty audit would read as a month without findings: say so instead.
            raise RxxlError(f"{claims_path}: no claims (the table has its header but no"
                            " rows); nothing to audit, and nothing was written")
        progress.update()
        progress.set_postfix_str(f"checking {len(claims):,} claims")
        audit = audit_claims(claims, tables, policy)
        progress.update()
        progress.set_postfix_str(f"writing {out.name}")
        write_table(audit, out, sheet="340B audit")
        progress.update()
    return _audit_lines(len(audit), int(audit["checked"].sum()),
                        audit["status"].value_counts().to_dict(),
                        summarize_findings(audit, "reason"), out)


def _audit_lines(claims: int, checked: int, status: dict[str, int], reasons: pd.DataFrame,
                 out: object) -> str:
    """The audit's summary, the same for both engines: counts by status and the reasons
    with the most dollars at stake (``summarize_findings``' order)."""
    lines = [
        f"rxxl audit340b: {claims:,} claims, {checked:,} checked:"
        f" {status.get('violation', 0):,} violations, {status.get('review', 0):,} for review,"
        f" ${_money(float(reasons['dollars_at_risk'].sum()))} at stake; written to {out}",
    ]
    for _, row in reasons.head(6).iterrows():
        lines.append(f"  {row['reason']:<30}{row['claims']:>8,} claims"
                     f"  ${_money(row['dollars_at_risk'])}")
    return "\n".join(lines)


#: `rxxl denials --by` choices and the claims column each trends by.
DENIAL_GROUPS = {"payer": "payer", "reason": "reason_code", "site": "site_id"}
#: The claims columns a denial analysis reads (of 20 million claims, only these are loaded).
DENIAL_COLUMNS = ("service_date", "payer", "payer_type", "site_id", "status",
                  "reject_code", "carc_code", "billed_amount", "paid_amount",
                  "original_claim_id")


def run_denials(claims_path: Path, out: Path, by: str, sheet: str | None = None) -> str:
    """Write the monthly denial trend table and return the top findings.

    The claims are counted part by part (a month's file at a time, two at once), each part
    collapsed to its distinct rows of the columns the trend reads: 24 months of 23 million
    claims never sit in memory together."""
    refuse_inputs([out], [claims_path])
    group = DENIAL_GROUPS[by]
    keys = ["service_date", "status", "reject_code", "carc_code",
            *([] if group in denials.REASON_KEYS else [group])]

    def load(part: Path) -> pd.DataFrame:
        return load_collapsed(part, "claims", by=keys, sums=["billed_amount"],
                              filled=["original_claim_id"], sheet=sheet)

    def count(part: pd.DataFrame) -> tuple[int, pd.DataFrame]:
        return int(part[COUNT].sum()), denials.denial_counts(part, group, count=COUNT)

    counted = map_parts(claims_path, "claims", count, loader=load)
    claims = sum(n for n, _ in counted)
    if not claims:
        # A trend of no months is no finding: say so instead of writing an empty table.
        raise RxxlError(f"{claims_path}: no claims (the table has its header but no rows);"
                        " nothing to trend, and nothing was written")
    trend = denials.trend_from_counts(pd.concat([c for _, c in counted], ignore_index=True),
                                      group)
    write_table(trend, out, sheet="Denial trend")
    return _denial_lines(claims, trend, by, out)


def _denial_lines(claims: int, trend: pd.DataFrame, by: str, out: object) -> str:
    """The denial trend's summary, the same for both engines (tests/test_spark.py checks
    that they print the same)."""
    flagged = int(trend["out_of_control"].sum())
    lines = [f"rxxl denials: {claims:,} claims, {trend['month'].nunique()} months,"
             f" {flagged} {by}-months out of control; written to {out}"]
    lines += [f"  {finding}" for finding in denials.top_findings(trend)]
    return "\n".join(lines)


def run_validate(table: str, files: Sequence[Path], sheet: str | None, max_problems: int) -> int:
    """Check each file; print its problems or its row count. Exit code 1 if any has problems."""
    failed = 0
    for path in files:
        try:
            frame = load_table(path, table, sheet=sheet, max_problems=max_problems)
        except DataValidationError as exc:
            failed += 1
            print(exc, file=sys.stderr)
        else:
            print(f"{path}: valid {table} table, {len(frame):,} rows")
    return 1 if failed else 0


def run_report(data: Path, month: str, out: Path, templates: Path | None,
               unmask: bool, all_claims: bool, fiscal_year_start: str | None = None, *,
               deidentify: bool = False) -> str:
    """Build the month's package and claim detail; return one line per workbook."""
    from rxxl.reports.figures import parse_fiscal_year_start
    from rxxl.reports.monthly import build_report

    if deidentify and unmask:
        # Refused before minutes of loading, not when the detail is written.
        raise InputError("--deidentify masks the patients too; drop --unmask-patients")
    first_month = parse_fiscal_year_start(fiscal_year_start, "--fiscal-year-start")
    with tqdm(total=None, desc="rxxl report", disable=not sys.stderr.isatty(),
              bar_format="{desc}: {postfix}") as bar:
        summaries = build_report(data, month, out, templates=templates,
                                 mask_patients=not unmask, all_claims=all_claims,
                                 deidentify=deidentify, fiscal_year_start=first_month,
                                 progress=lambda text: bar.set_postfix_str(text))
    lines = []
    for summary in summaries:
        lines.append(f"rxxl report: {summary.line}")
        if summary.commentary:
            lines.extend("  " + sentence.text for sentence in summary.commentary)
    return "\n".join(lines)


def run_demo(out: Path) -> str:
    """Generate the small synthetic health system and its latest monthly package."""
    from rxxl.data.synthetic import generate

    manifest = generate(out / "data", size="small")
    month = manifest["end_month"]
    report = run_report(out / "data", month, out / "reports", None, False, False)
    # The last quarter's HRSA evidence pack, beside the monthly reports.
    first = str(pd.Period(month, "M") - 2)
    pack = run_audit_pack(out / "data", first, month, out / "audit", TRACERS_PER_ENTITY,
                          TRACER_SEED, False, AuditPolicy())
    return (f"rxxl demo: synthetic health system in {out / 'data'}\n{report}\n{pack}\n"
            f"Open {out / 'reports'} and {out / 'audit'} in Excel or LibreOffice.")


def run_templates(out: Path) -> str:
    from rxxl.reports.templates import TEMPLATE_FILE, build_template

    return f"rxxl templates build: {build_template(out / TEMPLATE_FILE)}"


def _engine_options(command: argparse.ArgumentParser) -> None:
    """Where a claims analysis computes: here, or on Apache Spark (docs/spark.md)."""
    command.add_argument("--engine", choices=("local", "spark"), default="local",
                         help="local: this machine (default); spark: an Apache Spark"
                         " cluster or Databricks, reading claims Parquet from a path or any"
                         " URI Spark reads (s3://, abfss://, dbfs:/); needs rxxl[spark]")
    command.add_argument("--spark-master", metavar="URL",
                         help="--engine spark: the Spark master (local[4], spark://host:7077,"
                         " yarn); default the active session (Databricks, spark-submit),"
                         " else local[*] on this machine")


def _policy_options(command: argparse.ArgumentParser) -> None:
    """The audit policy's options, the same on every command that audits."""
    command.add_argument("--lookback-days", type=int, default=DEFAULT_LOOKBACK_DAYS,
                         help="qualifying-encounter look-back window (default %(default)s)")
    command.add_argument("--observation-as-inpatient", action="store_true",
                         help="treat observation stays as inpatient (default: outpatient)")
    command.add_argument("--no-orphan-check", action="store_true",
                         help="skip the orphan drug exclusion (its reach is contested)")
    command.add_argument("--cah-modifier-from", type=_policy_date,
                         default=AuditPolicy.cah_modifier_from, metavar="YYYY-MM-DD|never",
                         help="first service date a critical access hospital's 340B Part B "
                              "claims need TB (default %(default)s; docs/340b-audit.md)")
    command.add_argument("--non-hospital-modifier-from", type=_policy_date,
                         default=AuditPolicy.non_hospital_modifier_from,
                         metavar="YYYY-MM-DD|never",
                         help="first service date FQHC and other non-hospital entities' 340B "
                              "Part B claims need JG or TB (default %(default)s)")


def _policy_date(text: str) -> dt.date | None:
    """A policy date option: a date, or 'never' (the rule is not held)."""
    if text.strip().lower() == "never":
        return None
    try:
        day = parse_dates([text], "date")[0]
    except RxxlError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; give YYYY-MM-DD or "
                                         "never") from None
    return pd.Timestamp(day).date()


def _policy(args: argparse.Namespace) -> AuditPolicy:
    return AuditPolicy(
        lookback_days=args.lookback_days,
        observation_is_outpatient=not args.observation_as_inpatient,
        check_orphan_drugs=not args.no_orphan_check,
        cah_modifier_from=args.cah_modifier_from,
        non_hospital_modifier_from=args.non_hospital_modifier_from,
    )


def run_audit_pack(data: Path, first: str, last: str, out: Path, tracers: int, seed: int,
                   unmask: bool, policy: AuditPolicy) -> str:
    """Build the audit pack of the period; return its one-line summary."""
    from rxxl.reports.audit_pack import build_audit_pack  # openpyxl and the sheets: only here

    with tqdm(total=None, desc="rxxl audit-pack", disable=not sys.stderr.isatty(),
              bar_format="{desc}: {postfix}") as bar:
        summary = build_audit_pack(data, first, last, out, tracers_per_entity=tracers,
                                   seed=seed, mask_patients=not unmask, policy=policy,
                                   progress=lambda text: bar.set_postfix_str(text))
    return f"rxxl audit-pack: {summary.line}\n  {summary.path}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rxxl",
        description="Pharmacy finance and 340B compliance analytics for Excel.",
    )
    parser.add_argument("--version", action="version", version=f"rxxl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    example = commands.add_parser(
        "example",
        help="print variance, price/volume/mix, generics, inventory and ROI on example figures",
        description="Print the core metrics for a month of example figures (bundled), or for"
        " a folder holding budget_lines.csv, drug_spend.csv, inventory.csv and"
        " capital_request.csv in the same layout.",
    )
    example.add_argument("--data", type=Path, help="folder with the four CSV files")

    sample = commands.add_parser(
        "sample",
        help="write a synthetic health system (24 months of claims, 340B reference, finance)",
        description="Write a deterministic synthetic health system: 340B covered entities,"
        " sites, prescribers, encounters, the Medicaid Exclusion File, a formulary, 24 months"
        " of claims and finance tables, with known problems planted and listed in"
        " manifest.json.",
    )
    sample.add_argument("--size", choices=("small", "large"), default="small",
                        help="small: a few thousand claims a month (seconds); large: about"
                        " 1,000,000 claims in the latest month (about a minute)")
    sample.add_argument("--out", type=Path, required=True, help="folder to write (new, or an"
                        " earlier sample's)")
    sample.add_argument("--seed", type=int, default=20261123, help="random seed (default"
                        " %(default)s); the same seed gives the same files")
    sample.add_argument("--end-month", default="2026-10", metavar="YYYY-MM",
                        help="last month of history (default %(default)s)")

    audit = commands.add_parser(
        "audit340b",
        help="check every claim against the 340B rules; write one row per claim",
        description="Check every claim against the 340B rules (diversion, duplicate"
        " discounts, GPO prohibition, orphan drugs, Part B modifiers) and write one row per"
        " claim with status, reasons and dollars at stake. Exits 0 whether or not violations"
        " are found, 2 when the input cannot be used.",
    )
    audit.add_argument("--claims", type=spark.location, required=True,
                       help="claims file (.csv, .parquet, .xlsx) or folder of monthly parts;"
                       " --engine spark: Parquet, a path or URI")
    audit.add_argument("--reference", type=Path, required=True,
                       help="folder with entity, sites, prescribers, encounters, mef and"
                       " orphan_drugs (.csv or .parquet)")
    audit.add_argument("--sheet", help="claims workbook: sheet name (default: the first)")
    audit.add_argument("--out", type=spark.location, required=True,
                       help="result file, .csv or .xlsx; --engine spark: a new Parquet"
                       " directory (e.g. audit.parquet), a path or URI, written whole or not"
                       " at all")
    _policy_options(audit)
    _engine_options(audit)

    pack = commands.add_parser(
        "audit-pack",
        help="HRSA audit evidence for a period: claim universe, tracers, registry,"
        " accumulator, findings (a workbook and CSVs)",
        description="Write the folder '340B audit pack FROM to TO' into --out: a workbook and"
        " CSVs an HRSA auditor works from (the period's claim universe with masked patients,"
        " a seeded tracer sample traced end to end, the registry reconciliation, the"
        " split-billing accumulator against purchases, findings by reason, the policy and"
        " reference data). The folder appears whole or not at all. Exit 0 when written, 2 on"
        " bad input.")
    pack.add_argument("--data", type=Path, required=True, help="data folder (claims/ and the"
                      " 340B reference tables; drugs and drug_purchases for the accumulator)")
    pack.add_argument("--from", dest="first", required=True, metavar="YYYY-MM",
                      help="first month of the period")
    pack.add_argument("--to", dest="last", required=True, metavar="YYYY-MM",
                      help="last month of the period")
    pack.add_argument("--out", type=Path, required=True, help="output folder (not the data"
                      " folder)")
    pack.add_argument("--tracers", type=int, default=TRACERS_PER_ENTITY,
                      help="tracer claims per 340B ID (default %(default)s)")
    pack.add_argument("--seed", type=int, default=TRACER_SEED,
                      help="seed of the tracer draw (default %(default)s): the same seed, the"
                      " same claims")
    pack.add_argument("--unmask-patients", action="store_true",
                      help="write patient ids as they are (default: pseudonyms)")
    _policy_options(pack)

    trend = commands.add_parser(
        "denials",
        help="denial rates by payer, reason or site and month, with p-chart flags",
        description="Initial denial rates per month with p-chart control limits (months out"
        " of control flagged), written as a table (CSV or .xlsx by extension); prints the top"
        " findings.",
    )
    trend.add_argument("--claims", type=spark.location, required=True,
                         help="claims file (.csv, .parquet, .xlsx) or folder of monthly parts;"
                         " --engine spark: Parquet, a path or URI")
    trend.add_argument("--sheet", help="claims workbook: sheet name (default: the first)")
    trend.add_argument("--out", type=Path, required=True, help="result file, .csv or .xlsx")
    trend.add_argument("--by", choices=sorted(DENIAL_GROUPS), default="payer",
                         help="one trend per payer (default), reason code or site")
    _engine_options(trend)

    validate = commands.add_parser(
        "validate",
        help="check input files against rxxl's data contracts and list every problem",
        description="Load files as the named table (see docs/data-contracts.md) and report"
        " every problem with file, row and column, or that the file is valid.",
    )
    validate.add_argument("table", choices=sorted(TABLES), help="which contract to check")
    validate.add_argument("files", type=Path, nargs="+", help=".csv, .parquet, .xlsx, or a"
                          " folder of parts")
    validate.add_argument("--sheet", help="xlsx: sheet name (default: the first)")
    validate.add_argument("--max-problems", type=int, default=50,
                          help="problems listed per file (default %(default)s)")
    report = commands.add_parser(
        "report", help="the monthly pharmacy finance package from a data folder",
        description="Load and validate a data folder (claims/, budget_lines.csv, ... and the"
        " 340B reference tables), compute the month's figures and write 'Pharmacy Finance"
        " YYYY-MM.xlsx' and '340B claim detail YYYY-MM.xlsx' as a pair. Exit 0 when written, 2 on"
        " bad input or when another run writes to the folder (nothing is written, earlier"
        " reports stay), 128 + the signal when stopped (130 for Ctrl-C).")
    report.add_argument("--data", type=Path, required=True, help="data folder")
    report.add_argument("--month", required=True, help="report month, YYYY-MM")
    report.add_argument("--out", type=Path, required=True, help="output folder (not the data"
                        " or templates folder)")
    report.add_argument("--templates", type=Path,
                        help="folder with a (restyled) monthly_package.xlsx; default: built in")
    report.add_argument("--fiscal-year-start", metavar="MONTH",
                        help="first month of the fiscal year, 1-12 or a name (e.g. 10 or"
                        " October); default July")
    report.add_argument("--unmask-patients", action="store_true",
                        help="write patient ids as they are (default: report-local pseudonyms;"
                        " claim id, date, prescriber and site are kept either way)")
    report.add_argument("--deidentify", action="store_true",
                        help="claim detail for sharing outside the covered entity: claim ids"
                        " and prescribers masked too, service dates shown as the month")
    report.add_argument("--all-claims", action="store_true",
                        help="claim detail of every claim, not only those with findings")
    demo = commands.add_parser("demo", help="synthetic health system and its monthly report")
    demo.add_argument("--out", type=Path, default=Path("rxxl-demo"),
                      help="folder for data/ and reports/ (default %(default)s)")
    templates = commands.add_parser("templates", help="report templates")
    template_commands = templates.add_subparsers(dest="templates_command", required=True)
    template_build = template_commands.add_parser("build", help="build monthly_package.xlsx")
    template_build.add_argument("--out", type=Path, default=Path("templates"),
                                help="folder (default %(default)s)")
    addin_cli.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    with _signals_stop_the_run():
        try:
            return _dispatch(args)
        except (Stopped, KeyboardInterrupt) as stop:
            signum = stop.signum if isinstance(stop, Stopped) else signal.SIGINT
            print(f"rxxl {args.command}: stopped by {signal.Signals(signum).name}; earlier"
                  " output untouched", file=sys.stderr)
            return 128 + signum
        except (RxxlError, ValueError, KeyError) as exc:
            # rxxl's own message as it is; a library's only as the kind of fault (rxxl.data.phi).
            print(f"rxxl {args.command}: {fault_text(exc)}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"rxxl {args.command}: {os_error_message(exc)}", file=sys.stderr)
            return 2


def _dispatch(args: argparse.Namespace) -> int:
    if getattr(args, "engine", "local") == "spark":
        return _dispatch_spark(args)
    for given in ((args.claims, args.out) if args.command in ("audit340b", "denials") else ()):
        if isinstance(given, str):  # a URI (rxxl.spark.location): no local reader takes one
            raise InputError(f"{given}: a URI is read and written by --engine spark only;"
                             " give a local path, or add --engine spark")
    if args.command == "example":
        print(run_example(args.data))
    elif args.command == "sample":
        print(run_sample(args.out, args.size, args.seed, args.end_month))
    elif args.command == "audit340b":
        print(run_audit340b(args.claims, args.reference, args.out, _policy(args), args.sheet))
    elif args.command == "audit-pack":
        print(run_audit_pack(args.data, args.first, args.last, args.out, args.tracers,
                             args.seed, args.unmask_patients, _policy(args)))
    elif args.command == "denials":
        print(run_denials(args.claims, args.out, args.by, args.sheet))
    elif args.command == "validate":
        return run_validate(args.table, args.files, args.sheet, args.max_problems)
    elif args.command == "report":
        print(run_report(args.data, args.month, args.out, args.templates,
                         args.unmask_patients, args.all_claims, args.fiscal_year_start,
                         deidentify=args.deidentify))
    elif args.command == "demo":
        print(run_demo(args.out))
    elif args.command == "templates":
        print(run_templates(args.out))
    elif args.command == "addin":
        return addin_cli.run(args)
    return 0


def _dispatch_spark(args: argparse.Namespace) -> int:
    """``audit340b`` and ``denials`` on Apache Spark (rxxl.spark; docs/spark.md)."""
    if args.sheet is not None:
        raise InputError("--sheet is for claims workbooks; --engine spark reads Parquet")
    if args.command == "audit340b":
        summary = spark.run_audit340b(str(args.claims), args.reference, str(args.out),
                                      _policy(args), master=args.spark_master)
        print(_audit_lines(summary.claims, summary.checked, summary.status, summary.reasons,
                           summary.out))
    else:
        claims, trend = spark.run_denials(str(args.claims), Path(args.out),
                                          DENIAL_GROUPS[args.by], DENIAL_COLUMNS,
                                          master=args.spark_master)
        print(_denial_lines(claims, trend, args.by, args.out))
    return 0


class Stopped(BaseException):
    """The run got a stop signal. A BaseException (as KeyboardInterrupt), so no ``except
    Exception`` swallows it and every ``finally`` on the way out runs: temporary and staging
    files are removed and locks released, which the default SIGTERM action (exit at once)
    would skip."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Signals that stop a run cleanly: Ctrl-C, what cron, systemd and `timeout` send, and a
#: closed terminal (not on Windows).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


@contextlib.contextmanager
def _signals_stop_the_run():
    """Turn the stop signals into :class:`Stopped` for the run; a second signal while the
    run cleans up is ignored, so the cleanup completes."""
    stopping = []

    def stop(signum, frame):
        if not stopping:
            stopping.append(signum)
            raise Stopped(signum)

    previous = {}
    try:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, stop)
    except ValueError:  # not the main thread (an embedding program): its handlers stay
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


#: The fix for an operating-system error, by errno name (not every system has every name).
_OS_FIXES = {getattr(errno, name): fix for name, fix in {
    "ENOSPC": "the disk is full (no space left); free some space or write to another disk",
    "EDQUOT": "the disk quota is used up; free some space or write to another disk",
    "EACCES": "permission denied; check that you may read (inputs) or write (outputs) there,"
              " or choose another path",
    "EPERM": "operation not permitted; check the permissions, or choose another path",
    "EROFS": "the disk is read-only; write to another folder",
    "EISDIR": "is a folder where a file belongs; give the path of a file",
    "ENOTDIR": "part of the path is a file where a folder belongs; check the path",
    "EEXIST": "is a file where a folder belongs; give a folder, or move the file away",
    "ENOENT": "not found; check the path",
    "ENAMETOOLONG": "the path is too long; choose a shorter one",
    "EBUSY": "is in use by another program; close it and run again",
}.items() if hasattr(errno, name)}
#: Errors after which the earlier output is worth a mention: it is still there.
_FULL = {getattr(errno, name) for name in ("ENOSPC", "EDQUOT") if hasattr(errno, name)}


def os_error_message(exc: OSError) -> str:
    """One line for an operating-system error: the path (of a rename, its target) and the
    fix. The operating system's own words come only from its table of errors (strerror),
    never from the data."""
    path = exc.filename2 if exc.filename2 is not None else exc.filename
    fix = _OS_FIXES.get(exc.errno) or (exc.strerror or type(exc).__name__)
    done = "; earlier output is untouched" if exc.errno in _FULL else ""
    if path is None:
        return f"{fix}{done}"
    return f"{os.fsdecode(path) if isinstance(path, (str, bytes)) else path}: {fix}{done}"


if __name__ == "__main__":
    sys.exit(main())
