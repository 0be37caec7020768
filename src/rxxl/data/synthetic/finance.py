"""Finance tables that agree with the claims: drug purchases (whole packages replenishing
what was dispensed, by account and location), month-end inventory, the operating budget
with actuals, and capital requests.

Each month of claims is reduced to small aggregates (:class:`MonthTotals`) as it is
written, so the large sample never holds more than one month of claims.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rxxl.data.synthetic._common import Size, iso, stream
from rxxl.data.synthetic.claims import (
    A340B,
    ACCOUNTS,
    CARC_RESUBMIT,
    CARC_SHARES,
    GPO,
    REJECT_RESUBMIT,
    REJECT_SHARES,
    WAC,
    Claims,
)
from rxxl.data.synthetic.formulary import PRICE_SPIKE_FACTOR, Formulary, drug_line
from rxxl.data.synthetic.organization import (
    CONTRACT_PHARMACY,
    COST_CENTERS,
    INFUSION,
    INPATIENT,
    OBSERVATION,
    OP_PHARMACY,
    OVERSTOCK_LOCATION,
    Organization,
)

#: Budget assumption for the January list-price increase of brands.
BUDGETED_BRAND_INCREASE = 0.045
#: The fiscal year starts in July.
FISCAL_YEAR_START = 7
#: Fees the 340B program pays per contract pharmacy claim.
CONTRACT_PHARMACY_FEE = 15.00
TPA_FEE = 6.00
#: Drug cost per adjusted patient day the hospitals budget for (sets the APD scale).
DRUG_COST_PER_APD = 310.0
#: Days on hand of the overstocked location in the latest month, times its normal.
OVERSTOCK_DAYS_FACTOR = 2.5
#: The mixed-use area of the planted over- and under-replenishment, and the packages of each.
REPLENISH_LOCATION = "RUMC-INF"
REPLENISH_PACKAGES = 3


@dataclass
class MonthTotals:
    """What the finance tables need from one month of claims."""

    #: Units dispensed, (location, product, account).
    units: np.ndarray
    #: Initial claims per (location, channel).
    claims: np.ndarray
    #: Paid amounts and expected paid amounts (at the payers' normal denial rates) per
    #: location.
    paid: np.ndarray
    expected_paid: np.ndarray


def month_totals(org: Organization, form: Formulary, claims: Claims) -> MonthTotals:
    """Reduce a month of adjudicated claims to what the finance tables need.

    Parameters
    ----------
    org : Organization
    form : Formulary
    claims : Claims
        The month's claims after adjudication (resubmissions included).

    Returns
    -------
    MonthTotals
        Units dispensed per (location, product, account) (a denied pharmacy claim was
        not dispensed; a resubmission stands in for its original; contract pharmacy
        claims count only when the entity replenishes them, on 340B), initial claims per
        (location, channel), and paid and expected paid amounts per location.
    """
    n_loc, n_drug = len(org.locations), form.n
    resubmitted = np.zeros(len(claims), dtype=bool)
    resubmitted[claims.original[claims.original >= 0]] = True
    medical = ~np.isin(claims.channel, [OP_PHARMACY, CONTRACT_PHARMACY])
    # A denied pharmacy claim is not dispensed; a denied infusion was still given. A
    # resubmission stands in for its original.
    dispensed = ((claims.status == 0) | (medical & ~resubmitted)) & ~(
        resubmitted & (claims.status == 1))
    # The split-billing system replenishes on 340B only the use it qualifies, which is the
    # audit's: a planted 340B claim's units go to GPO, or to WAC where the GPO prohibition
    # binds, so the replenishment check sees only its own planted problems.
    account = np.where((claims.account == A340B) & (claims.planted >= 0),
                       np.where(org.gpo_prohibited[claims.entity], WAC, GPO), claims.account)
    # A contract pharmacy dispenses its own stock; the entity replenishes only 340B claims.
    location = np.where((claims.channel == CONTRACT_PHARMACY) & (account != A340B),
                        -1, claims.location)
    ok = dispensed & (location >= 0)
    key = (location[ok] * n_drug + claims.drug[ok]) * 3 + account[ok]
    units = np.bincount(key, weights=claims.quantity[ok], minlength=n_loc * n_drug * 3)
    initial = (claims.original < 0) & (location >= 0)
    counts = np.bincount(location[initial] * 5 + claims.channel[initial],
                         minlength=n_loc * 5).reshape(n_loc, 5)
    final_paid = np.where(claims.status == 1, 0.0, claims.would_pay)
    has = location >= 0
    paid = np.bincount(location[has], weights=final_paid[has], minlength=n_loc)
    # Expected receipts: the payer's usual denials, less the share later paid on appeal.
    recovered = np.where(medical, float(CARC_SHARES @ CARC_RESUBMIT),
                         float(REJECT_SHARES @ REJECT_RESUBMIT))
    expected = claims.would_pay * (1 - org.payer_denial[claims.payer] * (1 - recovered))
    expected_paid = np.bincount(location[initial], weights=expected[initial], minlength=n_loc)
    return MonthTotals(units.reshape(n_loc, n_drug, 3), counts, paid, expected_paid)


class Finance:
    """The finance tables of a sample, from the 24 months' :class:`MonthTotals`.

    Parameters
    ----------
    seed : int
    size : Size
    org : Organization
    form : Formulary
    totals : list of MonthTotals
        One per month, oldest first.
    """

    def __init__(self, seed: int, size: Size, org: Organization, form: Formulary,
                 totals: list[MonthTotals]) -> None:
        self.org, self.form, self.cal = org, form, org.calendar
        self.rng = stream(seed, size.name, "finance")
        self.units = np.stack([t.units for t in totals])  # month, loc, drug, account
        self.counts = np.stack([t.claims for t in totals])  # month, loc, channel
        self.paid = np.stack([t.paid for t in totals])
        self.expected_paid = np.stack([t.expected_paid for t in totals])
        months = len(self.cal)
        # Acquisition cost per unit by account: (month, drug, account).
        cost = np.empty((months, form.n, 3))
        cost[:, :, A340B] = form.price_340b * form.cost_factor
        cost[:, :, GPO] = form.price_gpo * form.cost_factor
        cost[:, :, WAC] = form.wac * form.cost_factor
        self.unit_cost = cost
        #: Cost per unit stock is valued at: the contract cost, without the shortage premium
        #: (what the month's price spike adds is spend, not a stock revaluation).
        self.stock_cost = np.stack([cost[:, :, a] / form.cost_factor for a in range(3)],
                                   axis=2)
        self.budget_unit_cost = self._budget_prices()
        # The spike product was budgeted at its contract cost: its premium is the whole
        # price variance, as on a real shortage buy off contract.
        latest, spike = self.cal.latest, form.spike_drug
        self.budget_unit_cost[latest, spike] = self.stock_cost[latest, spike]
        self._stock()

    # --- prices --------------------------------------------------------------------------

    def _budget_prices(self) -> np.ndarray:
        """Budgeted cost per unit: the list price when the fiscal year was budgeted (July),
        raised by the assumed brand increase from January, within a point of noise."""
        form, cal = self.form, self.cal
        months = cal.months.astype(np.int64)  # months since 1970-01
        fy_july = months - (cal.month_of_year - FISCAL_YEAR_START) % 12
        latest = months[-1]
        # Januaries in (july, latest]: the increases the July price is short of today's.
        januaries = np.array([
            sum(1 for t in range(j + 1, latest + 1) if t % 12 == 0) for j in fy_july
        ])
        july_price = form.list_price_latest[None, :] * (
            (1 + form.january_increase)[None, :] ** -januaries[:, None])
        after_january = (cal.month_of_year < FISCAL_YEAR_START)[:, None]
        raise_ = np.where(form.inflating, BUDGETED_BRAND_INCREASE, 0.0)[None, :]
        wac = july_price * np.where(after_january, 1 + raise_, 1.0)
        wiggle = 1 + self.rng.uniform(-0.01, 0.01, (1, form.n, 3))
        budget = np.empty((len(cal), form.n, 3))
        budget[:, :, A340B] = np.where(form.penny, 0.01, wac * form.price_ratio_340b)
        budget[:, :, GPO] = wac * form.price_ratio_gpo
        budget[:, :, WAC] = wac
        return budget * wiggle

    # --- purchases and stock ------------------------------------------------------------

    def _stock(self) -> None:
        """Purchases and month-end stock from one flow per line (location, product,
        account), month by month: a line is replenished for what it dispensed and what
        expired, in whole packages as its accumulated need crosses each package (the 340B
        accumulator's rule, and a fair picture of par-level ordering); the cheaper lines
        dispensed in the month also carry the location's par adjustment, which steers its
        month-end stock to its normal days on hand of the month's cost of goods. Stock is
        then opening + purchases - dispensed - expired exactly, so turns worked out from
        purchases and snapshots agree with the claims."""
        form, org, cal, rng = self.form, self.org, self.cal, self.rng
        units = self.units
        months, n_loc = units.shape[0], units.shape[1]
        stocked = org.stocked_locations
        package = form.package_size[None, :, None]
        cost = self.unit_cost
        doh = np.array([loc.days_on_hand for loc in org.locations])
        waste = np.zeros((months, n_loc, 1, 3))
        waste[:, :stocked] = rng.uniform(0.004, 0.012, (months, stocked, 1, 1))
        # The 340B account replenishes eligible use and nothing else (the accumulator's
        # rule, from zero in the first month): stock that expired, and the par adjustment,
        # are bought on GPO or WAC.
        waste[..., A340B] = 0.0
        expired = units * waste
        # Costly packages are not bought to steer stock levels.
        steerable = (cost * form.package_size[None, :, None] < 1_000)[:, None]
        steerable[..., A340B] = False
        on_hand = doh[:, None, None] / (365 / 12) * units.mean(axis=0)
        opening = on_hand.copy()
        accumulated = rng.uniform(0, 1, units.shape[1:]) * package
        accumulated[..., A340B] = 0.0
        #: The 340B accumulator's balance at each month end, (month, location, product).
        self.carried_340b = np.zeros(units.shape[:3])
        ordered = np.zeros_like(units)
        value = np.empty((months + 1, stocked))
        stock_cost = self.stock_cost
        value[0] = np.einsum("lda,da->l", on_hand[:stocked], stock_cost[0])
        for m in range(months):
            need = units[m] + expired[m]
            cogs = np.einsum("lda,da->l", units[m], cost[m])
            target = doh * cogs / cal.days[m]
            held = np.einsum("lda,da->l", on_hand, stock_cost[m])
            if m == months - 1:
                # The report month closes where it opened (at its normal days on hand), so
                # its only stock change is the planted forward buy: purchases there equal
                # what was dispensed, to the package.
                target = held
            gap = target - held
            room = np.einsum("lda,da->l", need * steerable[m], cost[m])
            rate = np.clip(gap / np.maximum(room, 1e-9), -0.9, 3.0)
            rate[stocked:] = 0.0
            need = need * (1 + rate[:, None, None] * steerable[m])
            before = np.floor(accumulated / package)
            accumulated = accumulated + need
            ordered[m] = np.floor(accumulated / package) - before
            self.carried_340b[m] = (accumulated - np.floor(accumulated / package) * package
                                    )[..., A340B]
            on_hand = on_hand + ordered[m] * package - units[m] - expired[m]
            value[m + 1] = np.einsum("lda,da->l", on_hand[:stocked], stock_cost[m])
        self.opening = opening
        self.normal_packages = ordered
        self.packages = ordered.copy()
        self.package_cost = np.round(cost * form.package_size[None, :, None], 2)
        self.budget_package_cost = np.round(
            self.budget_unit_cost * form.package_size[None, :, None], 2)
        noise = np.exp(np.clip(rng.normal(0, 0.02, ordered.shape), -0.04, 0.04))
        self.budget_packages = np.round(ordered * noise, 1)
        self.cogs = np.einsum("mlda,mda->ml", units[:, :stocked], cost)
        self.expired_value = np.round(
            np.einsum("mlda,mda->ml", expired[:, :stocked], stock_cost), 2)
        self._forward_buy(value)
        self._misreplenish(value)
        self.inventory_value = np.round(value, 2)

    def _forward_buy(self, value: np.ndarray) -> None:
        """Overstock one location in the latest month: extra packages of its costliest
        lines, enough that the month's average stock is OVERSTOCK_DAYS_FACTOR times its
        normal days on hand."""
        org, cal = self.org, self.cal
        ol = org.location_index[OVERSTOCK_LOCATION]
        m, latest = cal.latest, len(cal)
        doh = org.locations[ol].days_on_hand
        normal_value = value[latest, ol]
        target_average = OVERSTOCK_DAYS_FACTOR * doh * self.cogs[m, ol] / cal.days[m]
        extra_value = 2 * target_average - value[latest - 1, ol] - normal_value
        # A month that closed heavy already still gets a real forward buy.
        extra_value = max(extra_value, (OVERSTOCK_DAYS_FACTOR - 1) * normal_value)
        # The outpatient pharmacy keeps its 340B stock apart (a physical 340B inventory, not
        # the replenishment model: its locations row says so), so the buy takes its usual
        # basket on every account and no accumulator is overrun.
        line_value = self.packages[m, ol] * self.package_cost[m]
        share = line_value / line_value.sum()
        cost = np.maximum(self.package_cost[m], 0.01)
        wanted = share * extra_value / cost
        extra = np.floor(wanted)
        # Whole packages fall short of the plan: the lines nearest their next package make
        # up the rest (largest remainder), one package each, so every line's purchases stay
        # in proportion (a forward buy of the usual basket, not a shift between drugs or
        # accounts).
        short = extra_value - float((extra * cost).sum())
        order = np.argsort(-(wanted - extra), axis=None, kind="stable")
        needed = np.searchsorted(np.cumsum(cost.ravel()[order]), short) + 1
        extra.ravel()[order[:needed]] += 1
        self.packages[m, ol] += extra
        bought = float((extra * self.package_cost[m]).sum())
        value[latest, ol] += bought
        self.overstock_extra = bought
        self.overstock_ending_ratio = float(value[latest, ol] / normal_value)

    def _misreplenish(self, value: np.ndarray) -> None:
        """Plant the two replenishment problems at the mixed-use infusion center in the
        latest month: extra 340B packages of one product that no eligible use made due
        (over-replenishment), and packages of another that eligible use made due bought on
        WAC instead of 340B (under-replenishment; the medical center is a DSH, under the GPO
        prohibition). Products are the infusion center's 340B lines of the month with more
        than REPLENISH_PACKAGES due (some stay on 340B), other than the price spike's, by
        340B package cost: the upper quartile's for the over, the median's for the under."""
        form, org, m = self.form, self.org, self.cal.latest
        loc = org.location_index[REPLENISH_LOCATION]
        due = self.packages[m, loc, :, A340B]
        price = self.package_cost[m, :, A340B]
        candidates = np.flatnonzero((due > REPLENISH_PACKAGES)
                                    & (np.arange(form.n) != form.spike_drug))
        ranked = candidates[np.argsort(price[candidates], kind="stable")]
        over, under = ranked[(3 * len(ranked)) // 4], ranked[len(ranked) // 2]
        if over == under:
            raise RuntimeError("the sample has too few 340B lines to plant replenishment")
        k = REPLENISH_PACKAGES
        self.packages[m, loc, over, A340B] += k
        self.packages[m, loc, under, A340B] -= k
        self.packages[m, loc, under, WAC] += k
        # Stock is opening + purchases - use: the extra packages stay on the shelf, the WAC
        # ones replace 340B ones.
        unit = self.stock_cost[m]
        size = form.package_size
        value[len(self.cal), loc] += k * size[over] * unit[over, A340B] + k * size[under] * (
            unit[under, WAC] - unit[under, A340B])
        other = self.packages[m, loc, under, [GPO, WAC]]
        other_price = float(other @ self.package_cost[m, under, [GPO, WAC]] / other.sum())
        self.replenishment_planted = {
            "location": REPLENISH_LOCATION, "month": self.cal.labels[m], "packages": k,
            "over": {"ndc": str(form.ndc[over]), "drug_name": str(form.name[over]),
                     "package_price_340b": float(price[over]),
                     "exposure_dollars": round(k * float(price[over]), 2)},
            "under": {"ndc": str(form.ndc[under]), "drug_name": str(form.name[under]),
                      "package_price_340b": float(price[under]),
                      "package_price_bought_instead": round(other_price, 4),
                      "savings_left_behind": round(k * (other_price - float(price[under])),
                                                   2)},
        }

    # --- tables --------------------------------------------------------------------------

    def balances_table(self) -> pd.DataFrame:
        """The ``accumulator_balances`` table: the 340B accumulator's units carried at each
        month end per NDC and location, where use has accumulated (the split-billing
        system's accumulator report; its GPO and WAC sides are not kept here).

        Returns
        -------
        pandas.DataFrame
        """
        form, org, cal = self.form, self.org, self.cal
        used = np.cumsum(self.units[..., A340B], axis=0) > 0
        m, loc, drug = np.nonzero(used)
        frame = pd.DataFrame({
            "month": np.array(cal.labels)[m],
            "ndc": form.ndc[drug],
            "location": np.array([x.code for x in org.locations])[loc],
            "account": "340B",
            "units_carried": np.round(self.carried_340b[m, loc, drug], 6),
        })
        return frame.sort_values(["month", "location", "ndc"], kind="stable")


    def purchases_table(self) -> pd.DataFrame:
        """The ``drug_purchases`` table: packages bought per month, NDC, account and
        location, with their cost and the budget's quantity and unit cost.

        Returns
        -------
        pandas.DataFrame
        """
        form, org, cal = self.form, self.org, self.cal
        m, loc, drug, acct = np.nonzero(self.packages > 0)
        frame = pd.DataFrame({
            "month": np.array(cal.labels)[m],
            "ndc": form.ndc[drug],
            "drug_name": form.name[drug],
            "quantity": self.packages[m, loc, drug, acct],
            "unit_cost_actual": self.package_cost[m, drug, acct],
            "unit_cost_budget": np.round(self.budget_package_cost[m, drug, acct], 2),
            "budget_quantity": self.budget_packages[m, loc, drug, acct],
            "account": np.array(ACCOUNTS)[acct],
            "location": np.array([x.code for x in org.locations])[loc],
        })
        return frame.sort_values(["month", "location", "ndc", "account"], kind="stable")

    def inventory_table(self) -> pd.DataFrame:
        """The ``inventory_snapshots`` table: stock at cost per stocked location at each
        month end, and the month before the first (25 snapshots), with expired stock
        removed since the previous snapshot.

        Returns
        -------
        pandas.DataFrame
        """
        org, cal = self.org, self.cal
        stocked = org.stocked_locations
        dates = np.concatenate([[cal.start[0] - 1], cal.end])
        rows = []
        for i, date in enumerate(dates):
            for loc in range(stocked):
                expired = self.expired_value[i - 1, loc] if i > 0 else np.nan
                rows.append((iso(date), org.locations[loc].code,
                             self.inventory_value[i, loc], expired))
        return pd.DataFrame(rows, columns=["snapshot_date", "location", "inventory_value",
                                           "expired_value"])

    def days_on_hand(self, location: str, month: int) -> float:
        """Days on hand of a location in a month.

        Parameters
        ----------
        location : str
            Location code, e.g. ``RUMC-OP``.
        month : int
            Index of the month.

        Returns
        -------
        float
            Days in the month x (beginning + ending inventory) / 2 / cost of goods
            dispensed.
        """
        loc = self.org.location_index[location]
        average = (self.inventory_value[month, loc] + self.inventory_value[month + 1, loc]) / 2
        return float(self.cal.days[month] * average / self.cogs[month, loc])

    def budget_table(self) -> pd.DataFrame:
        """The ``budget_lines`` table: budget and actuals per month, cost center and line.

        Drug lines (one per budget category) equal the purchases of the cost center's
        locations at actual and at budget; labor, supplies and fees stay within a few
        percent of budget; revenue is what the claims paid. Volume drivers: adjusted
        patient days (inpatient pharmacy and the smaller hospitals), infusion visits,
        prescriptions, 340B contract pharmacy claims.

        Returns
        -------
        pandas.DataFrame
        """
        org, form, cal, rng = self.org, self.form, self.cal, self.rng
        months = len(cal)
        loc_cc = np.array([loc.cost_center for loc in org.locations])
        categories = sorted(set(form.budget_category))
        cat_of = np.array([categories.index(c) for c in form.budget_category])
        spend = (self.packages * self.package_cost[:, None]).sum(axis=3)  # m, loc, drug
        budget_spend = (self.budget_packages * self.budget_package_cost[:, None]).sum(axis=3)
        rows = []
        # Adjusted patient days: the hospitals' inpatient volume scaled so drug cost per
        # APD sits where hospitals budget it.
        hospitals = (["7010", "7020", "7030", "7040"], ["7110"], ["7210"], ["7310"])
        for centers in hospitals:
            locs = np.flatnonzero(np.isin(loc_cc, centers))
            ip = self.counts[:, locs][:, :, [INPATIENT, OBSERVATION]].sum(axis=(1, 2))
            total_budget = budget_spend[:, locs].sum(axis=(1, 2))
            scale = total_budget.sum() / DRUG_COST_PER_APD / max(ip.sum(), 1)
            apd_budget = np.round(ip.astype(float) * scale * np.exp(
                np.clip(rng.normal(0, 0.02, months), -0.04, 0.04)))
            apd_actual = np.round(ip.astype(float) * scale)
            for code in centers:
                cc_locs = np.flatnonzero(loc_cc == code)
                driver, b_vol, a_vol = self._driver(code, cc_locs, apd_budget, apd_actual)
                for m in range(months):
                    base = {"month": cal.labels[m], "cost_center": COST_CENTERS[code],
                            "volume_driver": driver, "budget_volume": b_vol[m],
                            "actual_volume": a_vol[m]}
                    drug_budget = 0.0
                    for k, category in enumerate(categories):
                        in_cat = cat_of == k
                        actual = spend[m, cc_locs][:, in_cat].sum()
                        budget = budget_spend[m, cc_locs][:, in_cat].sum()
                        if actual == 0 and budget == 0:
                            continue
                        drug_budget += budget
                        rows.append({**base, "line": drug_line(category),
                                     "line_type": "expense", "budget": round(budget, 2),
                                     "actual": round(actual, 2)})
                    rows += self._other_lines(code, cc_locs, m, drug_budget, base)
        frame = pd.DataFrame(rows)
        columns = ["month", "cost_center", "line", "line_type", "budget", "actual",
                   "volume_driver", "budget_volume", "actual_volume"]
        return frame[columns]

    def _driver(self, code: str, locs: np.ndarray, apd_budget: np.ndarray,
                apd_actual: np.ndarray) -> tuple[str, np.ndarray, np.ndarray]:
        rng = self.rng
        channel = {"7020": INFUSION, "7030": OP_PHARMACY, "7040": CONTRACT_PHARMACY}.get(code)
        if channel is None:
            return "adjusted patient days", apd_budget, apd_actual
        name = {"7020": "infusion visits", "7030": "prescriptions",
                "7040": "340B contract pharmacy claims"}[code]
        actual = self.counts[:, locs, channel].sum(axis=1).astype(float)
        budget = np.round(actual * np.exp(np.clip(rng.normal(0, 0.02, len(actual)),
                                                  -0.04, 0.04)))
        return name, budget, actual

    def _other_lines(self, code: str, locs: np.ndarray, m: int, drug_budget: float,
                     base: dict) -> list[dict]:
        """Labor, supplies, fees and revenue: budgets from the plan, actuals within a few
        percent (never a material variance on their own)."""
        rng = self.rng

        def near(budget: float) -> float:
            return round(budget * (1 + float(np.clip(rng.normal(0, 0.012), -0.03, 0.03))), 2)

        lines = []
        cp_claims = float(self.counts[m, locs, CONTRACT_PHARMACY].sum())
        if code == "7040":
            fees = {"Contract pharmacy dispensing fees": CONTRACT_PHARMACY_FEE,
                    "340B TPA fees": TPA_FEE}
            for line, fee in fees.items():
                lines.append((line, "expense", round(cp_claims * fee, 2)))
            lines.append(("Salaries and wages", "expense", 38_500.0))
        else:
            salaries = drug_budget * 0.21
            lines += [("Salaries and wages", "expense", round(salaries, 2)),
                      ("Benefits", "expense", round(salaries * 0.28, 2)),
                      ("Supplies and other", "expense", round(drug_budget * 0.03, 2))]
        revenue_line = {"7010": "Inpatient pharmacy revenue",
                        "7020": "Infusion drug revenue",
                        "7030": "Outpatient pharmacy revenue",
                        "7040": "340B contract pharmacy revenue"}.get(code, "Pharmacy revenue")
        out = []
        for line, kind, budget in lines:
            out.append({**base, "line": line, "line_type": kind, "budget": budget,
                        "actual": near(budget)})
        expected = float(self.expected_paid[m, locs].sum())
        actual = float(self.paid[m, locs].sum())
        budget = expected * (1 + float(np.clip(rng.normal(0, 0.01), -0.025, 0.025)))
        # A few denied high-cost infusions can swing a small sample's revenue; the plan
        # stays within 4% of what was earned so no revenue line looks like a finding.
        budget = round(float(np.clip(budget, actual / 1.04, actual / 0.96)), 2)
        out.append({**base, "line": revenue_line, "line_type": "revenue", "budget": budget,
                    "actual": round(actual, 2)})
        return out

    def spike_summary(self) -> dict:
        """Where the price spike shows.

        Returns
        -------
        dict
            ``spend``: the spike product's purchases in the latest month; ``increase``:
            what the price rise cost; ``locations``: the locations that bought it.
        """
        form, org, cal = self.form, self.org, self.cal
        m, d = cal.latest, form.spike_drug
        spend = (self.packages[m, :, d] * self.package_cost[m, d][None, :]).sum()
        normal = spend / PRICE_SPIKE_FACTOR
        locs = [org.locations[i].code for i in np.flatnonzero(self.packages[m, :, d].sum(1))]
        return {"spend": round(float(spend), 2), "increase": round(float(spend - normal), 2),
                "locations": locs}


CAPITAL_REQUESTS = (
    # (id, name, rate, years, capital, yearly flows {flow_type: amount})
    ("CR-1011", "IV compounding robot (hazardous and non-hazardous)", 0.06, 7,
     -1_450_000, {"labor_savings": 3.5 * 2080 * 48.75, "avoided_errors": 95_000,
                  "revenue": 182_000, "service_cost": -128_000}),
    ("CR-1014", "Automated dispensing cabinet replacement (42 units)", 0.06, 6,
     -2_180_000, {"labor_savings": 4.0 * 2080 * 46.20, "avoided_errors": 142_000,
                  "revenue": 265_000, "service_cost": -196_000}),
    ("CR-1019", "Outpatient pharmacy carousel and will-call automation", 0.06, 5,
     -640_000, {"labor_savings": 2.0 * 2080 * 38.40, "avoided_errors": 22_000,
                "service_cost": -48_500}),
    ("CR-1023", "IV workflow management system (gravimetric verification)", 0.06, 5,
     -385_000, {"labor_savings": 1.5 * 2080 * 48.75, "avoided_errors": 61_000,
                "service_cost": -52_000}),
)


def capital_table() -> pd.DataFrame:
    """The ``capital_requests`` table.

    Four pharmacy automation requests: year-0 capital, then yearly labor savings (FTEs x
    2,080 hours x loaded hourly rate), avoided error costs, captured revenue and service
    contracts (the first year under warranty), escalating 3% a year, with savings at 60%
    in the go-live year.

    Returns
    -------
    pandas.DataFrame
        One row per request, period and flow type.
    """
    rows = []
    for request_id, name, rate, years, capital, flows in CAPITAL_REQUESTS:
        rows.append((request_id, name, 0, float(capital), "capital", rate))
        for year in range(1, years + 1):
            for flow, amount in flows.items():
                escalated = amount * 1.03 ** (year - 1)
                # Savings ramp up over the first year of go-live.
                if year == 1 and flow != "service_cost":
                    escalated *= 0.6
                if year == 1 and flow == "service_cost":
                    escalated = 0.0  # the first year is under warranty
                rows.append((request_id, name, year, round(escalated, 2), flow, rate))
    frame = pd.DataFrame(rows, columns=["request_id", "request_name", "period", "cash_flow",
                                        "flow_type", "discount_rate"])
    return frame[frame["cash_flow"] != 0].reset_index(drop=True)
