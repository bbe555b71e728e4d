CREATE TEMP TABLE IF NOT EXISTS stage_eligibility (
    code text, qualifies boolean, assessed_as text
) ON COMMIT DROP;
TRUNCATE stage_eligibility;
