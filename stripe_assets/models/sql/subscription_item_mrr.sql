-- Monthly recurring revenue per subscription item and month, with its movement from the month before.
-- A month's MRR is the items' at the end of the month (for the current month: as of the newest
-- subscription state loaded). An item counts from when its subscription starts paying (its start,
-- or the end of its trial) until it ends; incomplete subscriptions never count.
WITH subscription_items AS (
    -- A subscription's current items (an item removed from it is marked deleted in
    -- stripe.subscription_items), with the subscription's customer and paying period.
    SELECT
        s.account_id,
        i.id AS subscription_item_id,
        s.id AS subscription_id,
        s.customer AS customer_id,
        json_extract_string(i.price, '$.id') AS price_id,
        json_extract_string(i.price, '$.product') AS product_id,
        lower(json_extract_string(i.price, '$.currency')) AS currency,
        CAST(json_extract_string(i.price, '$.unit_amount') AS BIGINT) AS unit_amount,
        coalesce(i.quantity, 1) AS quantity,
        json_extract_string(i.price, '$.recurring.interval') AS billing_interval,
        coalesce(CAST(json_extract_string(i.price, '$.recurring.interval_count') AS BIGINT), 1) AS interval_count,
        timezone('UTC', greatest(s.start_date, coalesce(s.trial_end, s.start_date))) AS paying_from,
        timezone('UTC', s.ended_at) AS ended_at
    FROM stripe.subscription_items AS i
    JOIN stripe.subscriptions AS s ON s.id = i.subscription AND s.account_id IS NOT DISTINCT FROM i.account_id
    WHERE i._deleted_at IS NULL AND s._deleted_at IS NULL
        AND s.status NOT IN ('incomplete', 'incomplete_expired')
),
items AS (
    -- A month is 1/12 of a year: a weekly price is 52/12 of it a month, a daily one 365/12.
    -- Integer arithmetic, rounded half up to the currency's minor unit.
    SELECT
        *,
        (2 * unit_amount * quantity * f.numerator + f.denominator * interval_count)
            // (2 * f.denominator * interval_count) AS item_mrr
    FROM subscription_items
    JOIN (VALUES ('day', 365, 12), ('week', 52, 12), ('month', 1, 1), ('year', 1, 12))
        AS f(name, numerator, denominator) ON f.name = billing_interval
    WHERE unit_amount IS NOT NULL
),
as_of AS (
    SELECT timezone('UTC', max(_observed_at)) AS at FROM stripe.subscriptions
),
months AS (
    SELECT CAST(m AS DATE) AS month, least(m + INTERVAL 1 MONTH, as_of.at) AS snapshot_at
    FROM as_of, generate_series(
        (SELECT date_trunc('month', min(paying_from)) FROM items), date_trunc('month', as_of.at), INTERVAL 1 MONTH
    ) AS g(m)
),
grid AS (
    SELECT
        months.month,
        items.account_id,
        items.subscription_item_id,
        items.subscription_id,
        items.customer_id,
        items.price_id,
        items.product_id,
        items.currency,
        CASE
            WHEN items.paying_from <= months.snapshot_at
                AND (items.ended_at IS NULL OR items.ended_at > months.snapshot_at)
            THEN items.item_mrr ELSE 0
        END AS mrr
    FROM months
    JOIN items ON months.month >= date_trunc('month', items.paying_from)
),
moves AS (
    SELECT
        *,
        coalesce(lag(mrr) OVER by_item, 0) AS previous_mrr,
        coalesce(max(mrr) OVER (
            PARTITION BY account_id, subscription_item_id ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ), 0) AS earlier_best
    FROM grid
    WINDOW by_item AS (PARTITION BY account_id, subscription_item_id ORDER BY month)
),
named AS (
    SELECT
        *,
        CASE
            WHEN previous_mrr = 0 AND mrr > 0 AND earlier_best = 0 THEN 'new'
            WHEN previous_mrr = 0 AND mrr > 0 THEN 'reactivation'
            WHEN previous_mrr > 0 AND mrr = 0 THEN 'churn'
            WHEN mrr > previous_mrr THEN 'expansion'
            WHEN mrr < previous_mrr THEN 'contraction'
            ELSE 'unchanged'
        END AS movement
    FROM moves
    WHERE mrr > 0 OR previous_mrr > 0
)
SELECT
    month,
    account_id,
    subscription_item_id,
    subscription_id,
    customer_id,
    price_id,
    product_id,
    currency,
    mrr,
    previous_mrr,
    mrr - previous_mrr AS mrr_change,
    movement,
    CASE WHEN movement = 'new' THEN mrr - previous_mrr ELSE 0 END AS new_mrr,
    CASE WHEN movement = 'expansion' THEN mrr - previous_mrr ELSE 0 END AS expansion_mrr,
    CASE WHEN movement = 'contraction' THEN mrr - previous_mrr ELSE 0 END AS contraction_mrr,
    CASE WHEN movement = 'churn' THEN mrr - previous_mrr ELSE 0 END AS churned_mrr,
    CASE WHEN movement = 'reactivation' THEN mrr - previous_mrr ELSE 0 END AS reactivation_mrr
FROM named
ORDER BY month, account_id, subscription_item_id
