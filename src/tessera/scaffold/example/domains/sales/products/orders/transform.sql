-- Typed point-of-sale orders: re-sent duplicates removed (latest ingest wins), codes normalised,
-- the 'N/A' amount of cancelled orders becomes 0.00.
SELECT
    order_id,
    customer_id,
    order_ts,
    coalesce(try_cast(nullif(trim(amount), 'N/A') AS DECIMAL(10, 2)), 0.00) AS amount,
    upper(trim(currency)) AS currency,
    lower(trim(status)) AS status,
    lower(trim(channel)) AS channel,
    upper(trim(store_country)) AS country
FROM source.pos.orders
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY ingested_at DESC) = 1
