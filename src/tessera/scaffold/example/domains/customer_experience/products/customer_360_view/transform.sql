-- Unified customer profile: CRM demographics + orders (sales) + web engagement + support tickets.
WITH orders AS (
    SELECT
        customer_id,
        count(*) AS total_orders,
        sum(amount) FILTER (WHERE status = 'completed') AS lifetime_value,
        max(order_ts) AS last_order_ts
    FROM sales.orders
    GROUP BY customer_id
),
tickets AS (
    SELECT
        customer_id,
        count(*) AS support_tickets,
        count(*) FILTER (WHERE lower(trim(status)) IN ('open', 'pending')) AS open_tickets,
        max(opened_at) AS last_ticket_at
    FROM source.support_tickets.tickets
    GROUP BY customer_id
)
SELECT
    c.customer_id,
    c.email,
    c.full_name,
    c.country,
    c.segment,
    coalesce(o.total_orders, 0) AS total_orders,
    CAST(coalesce(o.lifetime_value, 0) AS DECIMAL(12, 2)) AS lifetime_value,
    o.last_order_ts,
    coalesce(w.sessions, 0) AS sessions,
    coalesce(w.page_views, 0) AS page_views,
    coalesce(t.support_tickets, 0) AS support_tickets,
    coalesce(t.open_tickets, 0) AS open_tickets,
    greatest(c.updated_at, o.last_order_ts, w.last_seen_at, t.last_ticket_at) AS last_activity_at
FROM customer_experience.customers AS c
LEFT JOIN orders AS o ON o.customer_id = c.customer_id
LEFT JOIN customer_experience.web_engagement AS w ON w.customer_id = c.customer_id
LEFT JOIN tickets AS t ON t.customer_id = c.customer_id
