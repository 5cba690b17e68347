-- Web and app sessions per known customer (anonymous sessions are left out).
WITH sessions AS (
    SELECT
        nullif(nullif(trim(customer_id), ''), 'N/A') AS customer_id,
        lower(trim(device)) AS device,
        started_at,
        duration_seconds,
        page_views
    FROM source.web_analytics.sessions
)
SELECT
    customer_id,
    count(*) AS sessions,
    CAST(sum(page_views) AS BIGINT) AS page_views,
    CAST(round(sum(duration_seconds) / 60.0, 2) AS DECIMAL(12, 2)) AS total_minutes,
    CAST(round(avg(CASE WHEN device = 'mobile' THEN 1.0 ELSE 0.0 END), 4) AS DOUBLE) AS mobile_share,
    min(started_at) AS first_seen_at,
    max(started_at) AS last_seen_at
FROM sessions
WHERE customer_id IS NOT NULL
GROUP BY customer_id
