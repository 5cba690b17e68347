-- Invoices, the latest revision of each (an invoice is re-sent when it is paid). Published by merge on invoice_id.
SELECT
    invoice_id,
    order_id,
    customer_id,
    issued_at,
    due_date,
    CAST(amount AS DECIMAL(10, 2)) AS amount,
    CAST(tax AS DECIMAL(10, 2)) AS tax,
    CAST(total AS DECIMAL(10, 2)) AS total,
    upper(trim(currency)) AS currency,
    lower(trim(status)) AS status,
    paid_at,
    updated_at
FROM source.billing.invoices
QUALIFY row_number() OVER (PARTITION BY invoice_id ORDER BY updated_at DESC) = 1
