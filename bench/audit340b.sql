-- The 340B checks of rxxl.audit340b.audit_claims (default AuditPolicy: 365-day look-back,
-- observation is outpatient, orphan drug check on, the Part B modifier required of CAH and
-- non-hospital entities from 2024-01-01) as one DuckDB query over the sample's
-- files. Parameters: $claims (a claims Parquet file), $reference (the folder of the
-- reference tables) and $lookback_days. bench/bench_audit340b.py runs it and compares the
-- result with rxxl's claim by claim.
--
-- The sample's files are already in the form rxxl's loader gives (codes trimmed, choices in
-- their listed spelling, 11-digit NDCs, 10-digit NPIs, ISO dates, blanks null), so values are
-- compared as stored; only the types are declared.
--
-- One row per claim: claim_id, entity_id (as resolved), checked, status, reasons (codes
-- joined by ';' in the order of audit340b.REASONS, '' when compliant), dollars_at_risk.
WITH
claims AS (
    SELECT claim_id, service_date, ndc, quantity, patient_id, prescriber_npi, site_id,
           patient_status, payer_type, payer_state, billing_npi, account, modifiers,
           claim_type, status, unit_cost_340b, unit_cost_wac, entity_id
    FROM read_parquet($claims)
),
entity AS (
    SELECT * FROM read_csv($reference || '/entity.csv', header = true, auto_detect = false,
        columns = {'entity_id': 'VARCHAR', 'entity_type': 'VARCHAR', 'start_date': 'DATE',
                    'end_date': 'DATE', 'entity_name': 'VARCHAR'})
),
sites AS (
    SELECT * FROM read_csv($reference || '/sites.csv', header = true, auto_detect = false,
        columns = {'site_id': 'VARCHAR', 'entity_id': 'VARCHAR', 'site_type': 'VARCHAR',
                    'start_date': 'DATE', 'end_date': 'DATE',
                    'medicaid_arrangement': 'BOOLEAN', 'site_name': 'VARCHAR'})
),
prescribers AS (
    SELECT * FROM read_csv($reference || '/prescribers.csv', header = true, auto_detect = false,
        columns = {'npi': 'VARCHAR', 'entity_id': 'VARCHAR', 'start_date': 'DATE',
                    'end_date': 'DATE'})
),
mef AS (
    SELECT * FROM read_csv($reference || '/mef.csv', header = true, auto_detect = false,
        columns = {'entity_id': 'VARCHAR', 'state': 'VARCHAR', 'billing_npi': 'VARCHAR',
                    'medicaid_number': 'VARCHAR', 'quarter_start': 'DATE',
                    'carve_in': 'BOOLEAN'})
),
orphan_drugs AS (
    SELECT * FROM read_csv($reference || '/orphan_drugs.csv', header = true, auto_detect = false,
        columns = {'ndc': 'VARCHAR'})
),
-- A blank end date is an open period.
site_periods AS (
    SELECT site_id, entity_id, site_type, coalesce(medicaid_arrangement, false) AS arranged,
           start_date, coalesce(end_date, DATE '9999-12-31') AS end_date
    FROM sites
),
-- rxxl takes the first row's type per entity id; an entity's type does not change between
-- its registration periods (the earliest period's type stands in for "first").
entity_types AS (
    SELECT entity_id, arg_min(entity_type, start_date) AS entity_type
    FROM entity GROUP BY entity_id
),
-- Claims without an entity: the entity their site is registered to on the service date; a
-- site registered (at any time) to one entity only still names it; otherwise unknown. It
-- depends on the site and the date only, so it is worked out once per (site, date).
attributed AS (
    SELECT c.site_id, c.service_date,
           count(DISTINCT s.entity_id) FILTER (WHERE c.service_date BETWEEN s.start_date
                                                   AND s.end_date) AS active_n,
           min(s.entity_id) FILTER (WHERE c.service_date BETWEEN s.start_date
                                        AND s.end_date) AS active_entity,
           count(DISTINCT s.entity_id) AS anytime_n,
           min(s.entity_id) AS anytime_entity
    FROM (SELECT DISTINCT site_id, service_date FROM claims WHERE entity_id IS NULL) AS c
    JOIN site_periods AS s ON s.site_id = c.site_id
    GROUP BY c.site_id, c.service_date
),
resolved AS (
    SELECT c.*,
           coalesce(c.entity_id, CASE
               WHEN a.active_n = 1 THEN a.active_entity
               WHEN a.active_n = 0 AND a.anytime_n = 1 THEN a.anytime_entity
           END) AS entity,
           c.status <> 'denied' OR c.claim_type <> 'pharmacy' AS checked,
           c.account = '340B' AS on_340b,
           c.patient_status = 'inpatient' AS inpatient,
           c.payer_type = 'medicaid_ffs' AS medicaid_ffs,
           c.payer_type IN ('medicaid_ffs', 'medicaid_mco') AS medicaid
    FROM claims AS c LEFT JOIN attributed AS a
      ON c.entity_id IS NULL AND a.site_id = c.site_id AND a.service_date = c.service_date
),
tokens AS (
    -- Modifiers in any separator, whole tokens only.
    SELECT r.*, string_split(regexp_replace(upper(coalesce(r.modifiers, '')), '[^A-Z0-9]+',
                                            ' ', 'g'), ' ') AS modifier_list
    FROM resolved AS r
),
flagged AS (
    SELECT r.*, r.entity IS NULL AS unknown,
           r.checked AND r.on_340b AND r.entity IS NOT NULL AS in_scope,
           coalesce(t.entity_type, '') AS entity_type,
           list_contains(r.modifier_list, 'JG') AS has_jg,
           list_contains(r.modifier_list, 'TB') AS has_tb
    FROM tokens AS r LEFT JOIN entity_types AS t ON t.entity_id = r.entity
),
-- Encounters at a site registered to some entity on the encounter date, for the patients
-- of the claims in scope.
visits AS (
    SELECT e.patient_id, s.entity_id AS entity, e.encounter_date
    FROM read_parquet($reference || '/encounters.parquet') AS e
    JOIN site_periods AS s ON s.site_id = e.site_id
     AND e.encounter_date BETWEEN s.start_date AND s.end_date
    WHERE e.patient_id IN (SELECT patient_id FROM flagged WHERE in_scope)
),
-- The MEF listing of each outpatient Medicaid FFS claim (inpatient drugs earn no Medicaid
-- rebate): the rows naming its billing NPI for its entity, state and quarter; only when no
-- row names that NPI, the rows without an NPI (every NPI of the entity and state). all_in /
-- any_in: whether all / any of those rows carve in (both null: no row, carve-out).
mef_listing AS (
    SELECT f.claim_id, bool_and(m.carve_in) AS all_in, bool_or(m.carve_in) AS any_in
    FROM flagged AS f
    JOIN mef AS m ON m.entity_id = f.entity AND m.state = f.payer_state
     AND m.quarter_start = date_trunc('quarter', f.service_date)
     AND (m.billing_npi = f.billing_npi OR (m.billing_npi IS NULL AND NOT EXISTS (
            SELECT 1 FROM mef AS n WHERE n.entity_id = f.entity AND n.state = f.payer_state
               AND n.billing_npi = f.billing_npi AND n.quarter_start = m.quarter_start)))
    WHERE f.checked AND f.medicaid_ffs AND NOT f.unknown AND NOT f.inpatient
    GROUP BY f.claim_id
),
checks AS (
    SELECT f.claim_id, f.entity, f.checked, f.quantity, f.unit_cost_wac, f.unit_cost_340b,
        f.checked AND f.on_340b AND f.unknown AS entity_unknown,
        f.in_scope AND NOT EXISTS (
            SELECT 1 FROM entity AS e WHERE e.entity_id = f.entity
               AND f.service_date BETWEEN e.start_date AND coalesce(e.end_date, DATE '9999-12-31')
        ) AS entity_inactive,
        f.in_scope AND NOT EXISTS (
            SELECT 1 FROM site_periods AS s WHERE s.site_id = f.site_id AND s.entity_id = f.entity
               AND f.service_date BETWEEN s.start_date AND s.end_date
        ) AS site_not_registered,
        -- Look-back: an encounter of the patient with the claim's entity within
        -- lookback_days before the service date, both ends inclusive.
        f.in_scope AND NOT EXISTS (
            SELECT 1 FROM visits AS v WHERE v.patient_id = f.patient_id AND v.entity = f.entity
               AND v.encounter_date BETWEEN f.service_date - $lookback_days AND f.service_date
        ) AS no_qualifying_encounter,
        f.in_scope AND NOT EXISTS (
            SELECT 1 FROM prescribers AS p WHERE p.npi = f.prescriber_npi
               AND p.entity_id = f.entity
               AND f.service_date BETWEEN p.start_date AND coalesce(p.end_date, DATE '9999-12-31')
        ) AS prescriber_not_eligible,
        f.in_scope AND f.inpatient AS inpatient,
        coalesce(l.all_in, false) AS mef_carve_in,
        NOT coalesce(l.any_in, false) AS mef_carve_out,
        coalesce(l.any_in AND NOT l.all_in, false) AS mef_conflict,
        f.in_scope AND f.medicaid AND EXISTS (
            SELECT 1 FROM site_periods AS s WHERE s.site_type = 'contract_pharmacy'
               AND s.site_id = f.site_id AND s.entity_id = f.entity
               AND f.service_date BETWEEN s.start_date AND s.end_date
        ) AND NOT EXISTS (
            SELECT 1 FROM site_periods AS s WHERE s.site_type = 'contract_pharmacy'
               AND s.arranged AND s.site_id = f.site_id AND s.entity_id = f.entity
               AND f.service_date BETWEEN s.start_date AND s.end_date
        ) AS contract_pharmacy_medicaid,
        -- The GPO prohibition binds a participating entity at its registered sites.
        f.checked AND f.account = 'GPO' AND NOT f.inpatient
            AND f.entity_type IN ('DSH', 'PED', 'CAN') AND EXISTS (
            SELECT 1 FROM entity AS e WHERE e.entity_id = f.entity
               AND f.service_date BETWEEN e.start_date AND coalesce(e.end_date, DATE '9999-12-31')
        ) AND EXISTS (
            SELECT 1 FROM site_periods AS s WHERE s.site_id = f.site_id AND s.entity_id = f.entity
               AND f.service_date BETWEEN s.start_date AND s.end_date
        ) AS gpo_prohibition,
        f.in_scope AND f.entity_type IN ('CAH', 'SCH', 'RRC', 'CAN')
            AND f.ndc IN (SELECT ndc FROM orphan_drugs) AS orphan_drug,
        -- The Part B 340B modifier by date of service and entity type (CMS; default
        -- policy: CAH and non-hospital entities held from 2024-01-01). None before 2018;
        -- 2018-2023 the hospitals paid under the OPPS; from 2024 everyone. Accepted: TB only
        -- from 2025 and at children's, cancer and critical access hospitals; else JG or TB.
        f.in_scope AND f.payer_type = 'medicare_b' AND f.service_date >= DATE '2018-01-01'
            AND (f.entity_type IN ('DSH', 'RRC', 'SCH', 'PED', 'CAN')
                 OR f.service_date >= DATE '2024-01-01')
            AND NOT f.has_jg AND NOT f.has_tb AS missing_340b_modifier,
        f.in_scope AND f.payer_type = 'medicare_b' AND f.service_date >= DATE '2018-01-01'
            AND (f.entity_type IN ('DSH', 'RRC', 'SCH', 'PED', 'CAN')
                 OR f.service_date >= DATE '2024-01-01')
            AND (f.has_jg OR f.has_tb)
            AND NOT (f.has_tb OR (f.service_date < DATE '2025-01-01'
                                  AND f.entity_type NOT IN ('PED', 'CAN', 'CAH')))
            AS wrong_340b_modifier,
        f.checked AND f.medicaid_ffs AND NOT f.unknown AND NOT f.inpatient AS ffs_outpatient,
        f.on_340b
    FROM flagged AS f LEFT JOIN mef_listing AS l ON l.claim_id = f.claim_id
),
found AS (
    SELECT claim_id, entity, checked, quantity, unit_cost_wac, unit_cost_340b,
           entity_unknown, entity_inactive, site_not_registered, no_qualifying_encounter,
           prescriber_not_eligible, inpatient,
           ffs_outpatient AND on_340b AND mef_carve_out AS medicaid_duplicate_discount,
           ffs_outpatient AND NOT on_340b AND mef_carve_in AS mef_carve_in_not_340b,
           ffs_outpatient AND mef_conflict AS mef_conflict,
           contract_pharmacy_medicaid, gpo_prohibition, orphan_drug, missing_340b_modifier,
           wrong_340b_modifier
    FROM checks
),
labelled AS (
    SELECT claim_id, entity, checked, quantity, unit_cost_wac, unit_cost_340b,
        concat_ws(';',
            CASE WHEN entity_unknown THEN 'ENTITY_UNKNOWN' END,
            CASE WHEN entity_inactive THEN 'ENTITY_INACTIVE' END,
            CASE WHEN site_not_registered THEN 'SITE_NOT_REGISTERED' END,
            CASE WHEN no_qualifying_encounter THEN 'NO_QUALIFYING_ENCOUNTER' END,
            CASE WHEN prescriber_not_eligible THEN 'PRESCRIBER_NOT_ELIGIBLE' END,
            CASE WHEN inpatient THEN 'INPATIENT' END,
            CASE WHEN medicaid_duplicate_discount THEN 'MEDICAID_DUPLICATE_DISCOUNT' END,
            CASE WHEN mef_carve_in_not_340b THEN 'MEF_CARVE_IN_NOT_340B' END,
            CASE WHEN mef_conflict THEN 'MEF_CONFLICT' END,
            CASE WHEN contract_pharmacy_medicaid THEN 'CONTRACT_PHARMACY_MEDICAID' END,
            CASE WHEN gpo_prohibition THEN 'GPO_PROHIBITION' END,
            CASE WHEN orphan_drug THEN 'ORPHAN_DRUG' END,
            CASE WHEN missing_340b_modifier THEN 'MISSING_340B_MODIFIER' END,
            CASE WHEN wrong_340b_modifier THEN 'WRONG_340B_MODIFIER' END
        ) AS reasons,
        CASE
            WHEN entity_inactive OR site_not_registered OR no_qualifying_encounter
                OR prescriber_not_eligible OR inpatient OR medicaid_duplicate_discount
                OR contract_pharmacy_medicaid OR gpo_prohibition OR orphan_drug
                OR missing_340b_modifier OR wrong_340b_modifier THEN 'violation'
            WHEN entity_unknown OR mef_carve_in_not_340b OR mef_conflict THEN 'review'
            ELSE 'compliant'
        END AS status
    FROM found
)
SELECT claim_id, entity AS entity_id, checked, status, reasons,
       CASE WHEN status = 'compliant' THEN 0.0
            ELSE quantity * (unit_cost_wac - unit_cost_340b) END AS dollars_at_risk
FROM labelled
