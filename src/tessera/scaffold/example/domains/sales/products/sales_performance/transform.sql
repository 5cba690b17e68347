-- Completed orders per day, store country, channel and customer segment (segment from customer_experience).
SELECT
    CAST(o.order_ts AT TIME ZONE 'UTC' AS DATE) AS day,
    o.country,
    o.channel,
    coalesce(c.segment, 'unknown') AS segment,
    count(*) AS orders,
    count(DISTINCT o.customer_id) AS customers,
    CAST(sum(o.amount) AS DECIMAL(14, 2)) AS revenue,
    CAST(round(avg(o.amount), 2) AS DECIMAL(10, 2)) AS avg_order_value
FROM sales.orders AS o
LEFT JOIN customer_experience.customers AS c ON c.customer_id = o.customer_id
WHERE o.status = 'completed'
GROUP BY ALL
