-- Clean CRM customers: the latest record per customer, trimmed and normalised, 'N/A' placeholders to NULL.
SELECT
    customer_id,
    nullif(nullif(lower(trim(email)), 'n/a'), '') AS email,
    nullif(nullif(replace(trim(phone), '-', ' '), 'N/A'), '') AS phone,
    trim(first_name) || ' ' || trim(last_name) AS full_name,
    upper(trim(country)) AS country,
    lower(trim(segment)) AS segment,
    signup_date,
    updated_at
FROM source.crm.customers
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY updated_at DESC) = 1
