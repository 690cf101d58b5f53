-- One row per payout: its amount against the balance transactions it paid out, by category.
WITH paid AS (
    SELECT
        account_id,
        payout_id,
        count(*) AS balance_transactions,
        coalesce(sum(amount) FILTER (WHERE reporting_category = 'charge'), 0) AS gross_charges,
        coalesce(-sum(amount) FILTER (WHERE reporting_category = 'refund'), 0) AS refunds,
        coalesce(-sum(amount) FILTER (WHERE reporting_category = 'dispute'), 0) AS disputes,
        coalesce(sum(amount) FILTER (
            WHERE reporting_category NOT IN ('charge', 'refund', 'dispute')
        ), 0) AS other_activity,
        coalesce(sum(fee), 0) AS fees,
        coalesce(sum(net), 0) AS net
    FROM stripe_models.balance_transactions_enriched
    WHERE payout_id IS NOT NULL AND reporting_category NOT IN ('payout', 'payout_reversal')
    GROUP BY account_id, payout_id
)
SELECT
    p.account_id,
    p.id AS payout_id,
    p.created,
    p.arrival_date,
    p.currency,
    p.status,
    p.automatic,
    p.amount,
    coalesce(paid.balance_transactions, 0) AS balance_transactions,
    coalesce(paid.gross_charges, 0) AS gross_charges,
    coalesce(paid.refunds, 0) AS refunds,
    coalesce(paid.disputes, 0) AS disputes,
    coalesce(paid.other_activity, 0) AS other_activity,
    coalesce(paid.fees, 0) AS fees,
    coalesce(paid.net, 0) AS net,
    p.amount - coalesce(paid.net, 0) AS unexplained
FROM stripe.payouts AS p
LEFT JOIN paid ON paid.payout_id = p.id AND paid.account_id IS NOT DISTINCT FROM p.account_id
WHERE p._deleted_at IS NULL
ORDER BY p.created, p.account_id, p.id
