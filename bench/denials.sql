-- The payer x month counts behind `rxxl denials --by payer` (rxxl.denials.denial_counts:
-- initial claims submitted and initially denied, by count and billed dollars) as one DuckDB
-- query over the sample's claims parts, written as an analyst would. Parameters: $claims (a
-- Parquet file or a glob of the parts) and $codes (rxxl's reference_data/denial_codes.csv).
-- bench/bench_denials.py runs it and compares the table with rxxl's row by row.
--
-- The definitions (rxxl docs/definitions.md, Denials):
-- * an initial claim has no original_claim_id (a resubmission names the claim it repeats);
-- * a denial is a claim with status denied whose reason is not a contractual adjustment or
--   patient cost sharing; the reason is reject_code (NCPDP) when filled, else carc_code
--   (CARC with its group, e.g. CO-45), and the code list marks which CARCs are no denial;
-- * a missing billed amount counts as $0.
-- The sample's files are in the form rxxl's loader gives (codes trimmed, blanks null), so
-- values are compared as stored.
WITH
not_denials AS (
    SELECT code FROM read_csv($codes, header = true, all_varchar = true)
    WHERE system = 'carc' AND lower(is_denial) = 'false'
),
initial AS (
    SELECT payer, strftime(service_date, '%Y-%m') AS month, status, reject_code,
           regexp_extract(upper(carc_code), '^(CO|PR|OA|PI)?[ _-]*([0-9A-Z]+)$', 2) AS carc,
           coalesce(billed_amount, 0) AS billed
    FROM read_parquet($claims)
    WHERE original_claim_id IS NULL OR trim(original_claim_id) = ''
),
flagged AS (
    SELECT payer, month, billed,
           status = 'denied' AND NOT (reject_code IS NULL AND coalesce(
               ltrim(carc, '0') IN (SELECT code FROM not_denials), false)) AS denied
    FROM initial
)
SELECT payer, month,
       count(*) AS submitted,
       count(*) FILTER (WHERE denied) AS denied,
       round(sum(billed), 2) AS submitted_dollars,
       round(coalesce(sum(billed) FILTER (WHERE denied), 0), 2) AS denied_dollars
FROM flagged
GROUP BY payer, month
ORDER BY payer, month
