"""340B savings, gross and net of contract pharmacy fees, TPA fees and violating claims.

Definitions (docs/340b-exposure.md gives the sources):

- **A 340B claim** is :func:`rxxl.audit340b.is_340b_claim`: on the 340B account, and not a
  denied pharmacy claim.
- **Savings booked** on a 340B claim: units x (the price off 340B - the 340B price), the one
  price difference of :func:`rxxl.exposure.price_difference` (WAC for DSH, PED and CAN
  entities; for others the GPO price, for which WAC stands in as an upper bound). Claims
  off 340B book none.
- **Gross savings**: the savings booked on every 340B claim, before compliance.
- **Savings reversed**: the savings booked on 340B claims whose exposure
  (:func:`rxxl.exposure.claim_exposure`) is a manufacturer *repayment* or a Medicaid
  *rebate*: the drug was not eligible (diversion) or earned a second discount, and the
  entity pays the difference back. Repayment is, by the same rule, exactly the savings the
  claim booked, so it is subtracted once, as the savings reversed, never as both. A 340B
  claim whose only finding is a missing JG/TB modifier keeps its savings (it is rebilled);
  one whose finding is not yet determined keeps them too and is shown as
  ``savings_under_review``.
- **Fees**: the ``dispensing_fee`` and ``tpa_fee`` of the claims contract, summed wherever
  given (blank: no fee). When the claims have no such column (or it is blank on every claim,
  as the loader fills an optional column an export lacks), a policy fee per claim may be
  given (``dispensing_fee_per_claim``, ``tpa_fee_per_claim``): it applies to every 340B claim
  at a contract pharmacy (a ``sites`` row of type ``contract_pharmacy``). Without a column or
  a policy fee the fee is unknown (NaN) on those claims, and on every 340B claim when the
  reference tables are not given (no contract pharmacy can be told).

Then, per claim and in every sum::

    net savings = gross savings - dispensing fees - TPA fees - savings reversed
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rxxl.audit340b import is_340b_claim
from rxxl.errors import InputError
from rxxl.exposure import REBATE, REPAYMENT, UNDETERMINED, claim_exposure, price_difference

#: The fee columns of the claims contract, each with the policy argument that stands in.
FEE_COLUMNS = ("dispensing_fee", "tpa_fee")
#: Exposure kinds that undo a claim's 340B savings (the entity pays the difference back).
REVERSING_KINDS = (REPAYMENT, REBATE)
SAVINGS_COLUMNS = ("gross_savings", "dispensing_fees", "tpa_fees", "savings_reversed",
                   "net_savings", "savings_under_review", "upper_bound_savings")


def claim_savings(
    claims: pd.DataFrame,
    audit: pd.DataFrame,
    reference: dict[str, pd.DataFrame] | None = None,
    exposure: pd.DataFrame | None = None,
    *,
    dispensing_fee_per_claim: float | None = None,
    tpa_fee_per_claim: float | None = None,
) -> pd.DataFrame:
    """Each claim's 340B savings: booked, fees, reversed and net.

    Parameters
    ----------
    claims : DataFrame
        The claims the audit checked, same rows and index as ``audit`` (``quantity``,
        ``unit_cost_340b``, ``unit_cost_wac``, ``account``, ``claim_type``, ``status``; the
        optional ``dispensing_fee`` and ``tpa_fee``).
    audit : DataFrame
        :func:`rxxl.audit340b.audit_claims` output.
    reference : dict of DataFrame, optional
        The 340B reference tables: ``entity`` tells GPO-prohibited entities, ``sites`` the
        contract pharmacies (for a policy fee).
    exposure : DataFrame, optional
        :func:`rxxl.exposure.claim_exposure` output, computed when not given.
    dispensing_fee_per_claim, tpa_fee_per_claim : float, optional
        The fee per 340B contract pharmacy claim when the claims have no fee column, or
        one blank on every claim.

    Returns
    -------
    DataFrame
        One row per claim, the audit's index: ``claim_id`` (when the audit has it),
        ``service_date``, ``entity_id``, ``site_id``, ``is_340b``, ``savings_booked``,
        ``dispensing_fee``, ``tpa_fee``, ``savings_reversed``, ``net_savings``,
        ``savings_under_review`` and ``savings_upper_bound`` (WAC standing in for the GPO
        price). ``net_savings = savings_booked - dispensing_fee - tpa_fee -
        savings_reversed``, NaN where a term is unknown.

    Examples
    --------
    A compliant 340B fill at a contract pharmacy and a diverted one (both at a DSH):

    >>> claims = pd.DataFrame({"quantity": [10.0, 10.0], "unit_cost_340b": [2.0, 2.0],
    ...     "unit_cost_wac": [5.0, 5.0], "account": ["340B", "340B"],
    ...     "claim_type": ["pharmacy"] * 2, "status": ["paid"] * 2,
    ...     "dispensing_fee": [4.0, 4.0], "tpa_fee": [1.5, None]})
    >>> audit = pd.DataFrame({"service_date": pd.to_datetime(["2026-10-01"] * 2),
    ...     "entity_id": ["DSH1"] * 2, "site_id": ["CP1"] * 2, "account": ["340B"] * 2,
    ...     "reasons": ["", "NO_QUALIFYING_ENCOUNTER"]})
    >>> entity = pd.DataFrame({"entity_id": ["DSH1"], "entity_type": ["DSH"]})
    >>> savings = claim_savings(claims, audit, {"entity": entity})
    >>> savings[["savings_booked", "dispensing_fee", "tpa_fee", "savings_reversed",
    ...          "net_savings"]]
       savings_booked  dispensing_fee  tpa_fee  savings_reversed  net_savings
    0            30.0             4.0      1.5               0.0         24.5
    1            30.0             4.0      0.0              30.0         -4.0
    """
    missing = [c for c in ("account", "claim_type", "status") if c not in claims]
    if missing:
        raise InputError(f"claims: column {', '.join(missing)} missing; load the claims with "
                         "rxxl.data.load_table(..., 'claims')")
    for name, value in (("dispensing_fee_per_claim", dispensing_fee_per_claim),
                        ("tpa_fee_per_claim", tpa_fee_per_claim)):
        if value is not None and not (np.isfinite(value) and value >= 0):
            raise InputError(f"{name}: a fee in dollars, 0 or more, got {value!r}")
    if exposure is None:
        exposure = claim_exposure(claims, audit, reference)
    elif not exposure.index.equals(audit.index):
        raise InputError("exposure: not the audit's rows; pass claim_exposure(claims, audit)")
    booked, upper = price_difference(claims, audit, reference)
    on_340b = is_340b_claim(claims)
    booked = np.where(on_340b, booked, 0.0)
    kind = exposure["exposure_kind"]
    reversing = kind.isin(REVERSING_KINDS).to_numpy(dtype=bool)
    undetermined = (kind == UNDETERMINED).to_numpy(dtype=bool, na_value=False)
    reversed_ = np.where(on_340b & reversing, booked, 0.0)
    under_review = np.where(on_340b & undetermined, booked, 0.0)
    policies = (dispensing_fee_per_claim, tpa_fee_per_claim)
    fees = {column: _fees(claims, audit, reference, column, policy, on_340b)
            for column, policy in zip(FEE_COLUMNS, policies, strict=True)}
    net = np.round(booked - fees["dispensing_fee"] - fees["tpa_fee"] - reversed_, 2)
    frame = {"claim_id": audit["claim_id"].array} if "claim_id" in audit else {}
    return pd.DataFrame({
        **frame,
        **{c: audit[c].array for c in ("service_date", "entity_id", "site_id") if c in audit},
        "is_340b": on_340b,
        "savings_booked": booked,
        **fees,
        "savings_reversed": reversed_,
        "net_savings": net,
        "savings_under_review": under_review,
        "savings_upper_bound": on_340b & upper,
    }, index=audit.index)


def summarize_savings(savings: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Gross and net 340B savings in total, or by entity, site or month.

    Parameters
    ----------
    savings : DataFrame
        :func:`claim_savings` output.
    by : {None, "entity", "site", "month"}
        None: one row for all claims.

    Returns
    -------
    DataFrame
        The key (``entity_id``, ``site_id`` or ``month``, none in total), ``claims_340b``,
        ``gross_savings``, ``dispensing_fees``, ``tpa_fees``, ``savings_reversed``,
        ``net_savings`` (= gross - fees - reversed, of the known amounts),
        ``savings_under_review`` (kept in net, not yet determined),
        ``upper_bound_savings`` (the part of gross priced at WAC for a GPO price),
        ``claims_without_costs`` (340B claims with a blank cost: no savings known) and
        ``claims_without_fees`` (claims whose fee is unknown).

    Examples
    --------
    >>> savings = pd.DataFrame({"is_340b": [True, True, False],
    ...     "savings_booked": [30.0, 30.0, 0.0], "dispensing_fee": [4.0, 4.0, 0.0],
    ...     "tpa_fee": [1.5, float("nan"), 0.0], "savings_reversed": [0.0, 30.0, 0.0],
    ...     "savings_under_review": [0.0] * 3, "savings_upper_bound": [False] * 3})
    >>> summarize_savings(savings)[["gross_savings", "savings_reversed", "net_savings",
    ...                             "claims_without_fees"]]
       gross_savings  savings_reversed  net_savings  claims_without_fees
    0           60.0              30.0         20.5                    1
    """
    need = ["is_340b", "savings_booked", *FEE_COLUMNS, "savings_reversed",
            "savings_under_review", "savings_upper_bound"]
    keys = {None: None, "entity": "entity_id", "site": "site_id", "month": "month"}
    if by not in keys:
        raise InputError(f"by: expected entity, site, month or nothing, got {by!r}")
    if by is not None:
        need.append("service_date" if by == "month" else keys[by])
    missing = [c for c in need if c not in savings]
    if missing:
        raise InputError(f"savings: column {', '.join(missing)} missing; pass the "
                         "claim_savings() result")
    booked = savings["savings_booked"].to_numpy(dtype=float, na_value=np.nan)
    frame = pd.DataFrame({
        "claims_340b": savings["is_340b"].to_numpy(dtype=np.int64),
        "gross_savings": booked,
        "dispensing_fees": savings["dispensing_fee"].to_numpy(dtype=float, na_value=np.nan),
        "tpa_fees": savings["tpa_fee"].to_numpy(dtype=float, na_value=np.nan),
        "savings_reversed": savings["savings_reversed"].to_numpy(dtype=float, na_value=np.nan),
        "savings_under_review": savings["savings_under_review"].to_numpy(
            dtype=float, na_value=np.nan),
        "upper_bound_savings": np.where(savings["savings_upper_bound"].to_numpy(dtype=bool),
                                        booked, 0.0),
        "claims_without_costs": np.isnan(booked).astype(np.int64),
        "claims_without_fees": (savings[list(FEE_COLUMNS)].isna().any(axis=1)).to_numpy(
            dtype=np.int64),
    })
    if by is None:
        summary = frame.sum(min_count=0).to_frame().T
    else:
        key = (savings["service_date"].dt.to_period("M").astype(str) if by == "month"
               else savings[keys[by]].astype(object))
        summary = frame.groupby(key.to_numpy(), dropna=False).sum(min_count=0)
        summary = summary.rename_axis(keys[by]).reset_index()
    summary["net_savings"] = np.round(summary["gross_savings"] - summary["dispensing_fees"]
                                      - summary["tpa_fees"] - summary["savings_reversed"], 2)
    counts = ["claims_340b", "claims_without_costs", "claims_without_fees"]
    summary[counts] = summary[counts].astype(np.int64)
    order = [*([keys[by]] if by else []), "claims_340b", *SAVINGS_COLUMNS,
             "claims_without_costs", "claims_without_fees"]
    return summary[order]


def _fees(claims: pd.DataFrame, audit: pd.DataFrame, reference: dict | None, column: str,
          policy: float | None, on_340b: np.ndarray) -> np.ndarray:
    """One fee column per claim: as given (blank: no fee), else the policy fee on 340B
    contract pharmacy claims, else unknown there. A column blank on every claim is not
    given: the loader adds every optional column, so an export without fees reads so."""
    given = claims[column].to_numpy(dtype=float, na_value=np.nan) if column in claims else None
    if given is not None and not np.isnan(given).all():
        return np.nan_to_num(given, nan=0.0)
    at_pharmacy = on_340b & _at_contract_pharmacy(audit, reference)
    return np.where(at_pharmacy, np.nan if policy is None else float(policy), 0.0)


def _at_contract_pharmacy(audit: pd.DataFrame, reference: dict | None) -> np.ndarray:
    """Claims at a site registered as a contract pharmacy (to any entity, at any time);
    every claim when the sites table is not given (none can be ruled out)."""
    sites = None if reference is None else reference.get("sites")
    if sites is None:
        return np.ones(len(audit), dtype=bool)
    pharmacies = sites.loc[sites["site_type"].astype(str) == "contract_pharmacy", "site_id"]
    return audit["site_id"].astype(object).isin(set(pharmacies.astype(str))).to_numpy(
        dtype=bool)
