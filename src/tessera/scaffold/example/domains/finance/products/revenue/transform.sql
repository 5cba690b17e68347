-- Monthly revenue per currency: booked (sales.orders) against invoiced and collected (finance.invoices).
WITH booked AS (
    SELECT
        CAST(date_trunc('month', order_ts AT TIME ZONE 'UTC') AS DATE) AS month,
        currency,
        count(*) FILTER (WHERE status = 'completed') AS completed_orders,
        sum(amount) FILTER (WHERE status = 'completed') AS gross_revenue,
        sum(amount) FILTER (WHERE status = 'refunded') AS refunded_amount
    FROM sales.orders
    GROUP BY ALL
),
billed AS (
    SELECT
        CAST(date_trunc('month', issued_at AT TIME ZONE 'UTC') AS DATE) AS month,
        currency,
        sum(total) FILTER (WHERE status <> 'void') AS invoiced_amount,
        sum(total) FILTER (WHERE status = 'paid') AS collected_amount
    FROM finance.invoices
    GROUP BY ALL
)
SELECT
    month,
    currency,
    coalesce(b.completed_orders, 0) AS completed_orders,
    CAST(coalesce(b.gross_revenue, 0) AS DECIMAL(14, 2)) AS gross_revenue,
    CAST(coalesce(b.refunded_amount, 0) AS DECIMAL(14, 2)) AS refunded_amount,
    CAST(coalesce(i.invoiced_amount, 0) AS DECIMAL(14, 2)) AS invoiced_amount,
    CAST(coalesce(i.collected_amount, 0) AS DECIMAL(14, 2)) AS collected_amount
FROM booked AS b
FULL OUTER JOIN billed AS i USING (month, currency)
