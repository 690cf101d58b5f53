-- One row per customer (of its account) and currency they paid in (a customer who never paid: one row, currency NULL).
WITH paid AS (
    SELECT
        account_id,
        customer,
        currency,
        count(*) FILTER (WHERE status = 'succeeded') AS charges_succeeded,
        count(*) FILTER (WHERE status = 'failed') AS charges_failed,
        coalesce(sum(amount_captured) FILTER (WHERE status = 'succeeded'), 0) AS amount_paid,
        coalesce(sum(amount_refunded) FILTER (WHERE status = 'succeeded'), 0) AS amount_refunded,
        min(created) FILTER (WHERE status = 'succeeded') AS first_payment_at,
        max(created) FILTER (WHERE status = 'succeeded') AS last_payment_at
    FROM stripe.charges
    WHERE customer IS NOT NULL AND _deleted_at IS NULL
    GROUP BY account_id, customer, currency
),
subscribed AS (
    SELECT
        account_id,
        customer,
        count(*) AS subscriptions,
        count(*) FILTER (WHERE status IN ('active', 'trialing', 'past_due')) AS active_subscriptions
    FROM stripe.subscriptions
    WHERE _deleted_at IS NULL
    GROUP BY account_id, customer
)
SELECT
    c.account_id,
    c.id AS customer_id,
    c.email,
    c.name,
    c.created,
    c._deleted_at IS NOT NULL AS deleted,
    paid.currency,
    coalesce(paid.charges_succeeded, 0) AS charges_succeeded,
    coalesce(paid.charges_failed, 0) AS charges_failed,
    coalesce(paid.amount_paid, 0) AS amount_paid,
    coalesce(paid.amount_refunded, 0) AS amount_refunded,
    coalesce(paid.amount_paid, 0) - coalesce(paid.amount_refunded, 0) AS net_paid,
    paid.first_payment_at,
    paid.last_payment_at,
    coalesce(subscribed.subscriptions, 0) AS subscriptions,
    coalesce(subscribed.active_subscriptions, 0) AS active_subscriptions
FROM stripe.customers AS c
LEFT JOIN paid ON paid.customer = c.id AND paid.account_id IS NOT DISTINCT FROM c.account_id
LEFT JOIN subscribed ON subscribed.customer = c.id AND subscribed.account_id IS NOT DISTINCT FROM c.account_id
ORDER BY c.account_id, customer_id, currency
