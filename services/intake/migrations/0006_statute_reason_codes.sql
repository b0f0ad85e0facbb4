-- Art. 7 reason codes as the statute numbers them (point 10 is repealed). Before this fix the
-- codes 10-15 meant: 10 foreigners' integration, 11 after prison, 12 addiction, 13 random event
-- or crisis, 14 natural disaster, 15 ecological disaster. Now 11, 12, 13, 14 and 15 (natural or
-- ecological disaster, one point). A case with both 14 and 15 keeps 15 once; the order is the
-- statute's, as intake stores it.
UPDATE cases SET reasons = ARRAY(
    SELECT code FROM (
        SELECT DISTINCT CASE old WHEN '10' THEN '11' WHEN '11' THEN '12' WHEN '12' THEN '13'
                                 WHEN '13' THEN '14' WHEN '14' THEN '15' ELSE old END AS code
          FROM unnest(reasons) AS old
    ) renumbered
    ORDER BY substring(code FROM '^[0-9]+')::int, code
)
WHERE reasons && ARRAY['10', '11', '12', '13', '14', '15']::text[];
