"""The models: what each reads, its columns in words, and the checks that catch a wrong one."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

SCHEMA = "stripe_models"
PAYOUTS = "('payout', 'payout_reversal')"


@dataclass(frozen=True)
class ModelCheck:
    name: str
    description: str
    sql: str  # the rows that break the check
    severity: str = "ERROR"  # WARN: a finding about the data, not a wrong model


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    inputs: tuple[str, ...]  # the Stripe resources it reads (`stripe.<resource>`)
    columns: MappingProxyType[str, str]
    checks: tuple[ModelCheck, ...]
    models: tuple[str, ...] = ()  # the models it reads (`stripe_models.<name>`)

    @property
    def table(self) -> str:
        return f"{SCHEMA}.{self.name}"

    @property
    def input_tables(self) -> list[str]:
        return [f"stripe.{r}" for r in self.inputs] + [f"{SCHEMA}.{m}" for m in self.models]

    def sql(self) -> str:
        return resources.files(__package__).joinpath("sql", f"{self.name}.sql").read_text()


def _columns(**described: str) -> MappingProxyType[str, str]:
    return MappingProxyType(described)


def _same_rows(model: str, key: str, base: str, base_key: str = "id", where: str = "_deleted_at IS NULL") -> ModelCheck:
    """Every base row exactly once in the model, and nothing else."""
    return ModelCheck(
        name="rows_equal_base_rows",
        description=f"one row per row of {base}, no more, no fewer",
        sql=f"""
            SELECT coalesce(m.{key}, b.{base_key}) AS id, m.n AS model_rows, b.n AS base_rows
            FROM (SELECT {key}, count(*) AS n FROM {SCHEMA}.{model} GROUP BY 1) AS m
            FULL OUTER JOIN (SELECT {base_key}, count(*) AS n FROM {base} WHERE {where} GROUP BY 1) AS b
                ON m.{key} = b.{base_key}
            WHERE m.n IS DISTINCT FROM b.n
        """,
    )


DAILY_OVERVIEW = Model(
    name="daily_overview",
    description=(
        "Per account, UTC day and currency: payments tried, and the money that moved through the balance."
    ),
    inputs=("balance_transactions", "charges"),
    columns=_columns(
        account_id="The Stripe account the row's objects belong to (a connected account, or the platform's own).",
        day="The UTC day.",
        currency="Three-letter ISO currency code, lowercase.",
        charges_succeeded="Charges created that day that succeeded.",
        charges_failed="Charges created that day that failed.",
        gross_charges="Σ amount of the day's charge balance transactions (minor units).",
        refunds="Σ refunded (positive) of the day's refund balance transactions.",
        disputes="Σ withdrawn (positive) by the day's dispute balance transactions.",
        other_activity="Σ amount of the day's other balance transactions (adjustments, fees...), payouts apart.",
        fees="Σ Stripe fees of the day's balance transactions, payouts apart.",
        net_activity="Σ net of the day's balance transactions, payouts apart: what the balance report calls activity.",
        payouts="Σ paid out (positive) by the day's payout balance transactions, failed payouts returning negative.",
        balance_transactions="Balance transactions created that day.",
    ),
    checks=(
        ModelCheck(
            name="net_is_gross_less_refunds_disputes_and_fees",
            description="net_activity = gross_charges - refunds - disputes + other_activity - fees on every row",
            sql=f"""SELECT account_id, day, currency FROM {SCHEMA}.daily_overview
                WHERE net_activity <> gross_charges - refunds - disputes + other_activity - fees""",
        ),
        ModelCheck(
            name="days_sum_to_the_ledger",
            description="per currency, Σ net_activity - payouts equals Σ net of stripe.balance_transactions",
            sql=f"""
                SELECT coalesce(m.currency, b.currency) AS currency, m.total AS model, b.total AS ledger
                FROM (SELECT currency, sum(net_activity - payouts) AS total FROM {SCHEMA}.daily_overview GROUP BY 1) m
                FULL OUTER JOIN (
                    SELECT currency, sum(net) AS total FROM stripe.balance_transactions
                    WHERE _deleted_at IS NULL GROUP BY 1
                ) b ON m.currency = b.currency
                WHERE m.total IS DISTINCT FROM b.total AND NOT (m.total = 0 AND b.total IS NULL)""",
        ),
    ),
)

CUSTOMER_OVERVIEW = Model(
    name="customer_overview",
    description="Per customer and currency they paid in: payments, refunds and subscriptions.",
    inputs=("customers", "charges", "subscriptions"),
    columns=_columns(
        account_id="The Stripe account the row's objects belong to (a connected account, or the platform's own).",
        customer_id="The customer's id (cus_...).",
        email="The customer's email address.",
        name="The customer's full name or business name.",
        created="When the customer was created.",
        deleted="Whether the customer was deleted in Stripe (its row is kept).",
        currency="The currency of the payments this row sums; NULL for a customer who never paid.",
        charges_succeeded="The customer's succeeded charges in this currency.",
        charges_failed="The customer's failed charges in this currency.",
        amount_paid="Σ amount captured of the succeeded charges (minor units).",
        amount_refunded="Σ amount refunded of those charges.",
        net_paid="amount_paid - amount_refunded.",
        first_payment_at="When the customer's first succeeded charge in this currency was created.",
        last_payment_at="When the customer's latest succeeded charge in this currency was created.",
        subscriptions="The customer's subscriptions, of any status.",
        active_subscriptions="The customer's subscriptions active, trialing or past due.",
    ),
    checks=(
        ModelCheck(
            name="one_row_per_customer_and_currency",
            description="no customer and currency twice, and every customer present",
            sql=f"""
                SELECT c.id AS customer_id, count(m.customer_id) AS rows
                FROM stripe.customers c LEFT JOIN {SCHEMA}.customer_overview m ON m.customer_id = c.id
                GROUP BY c.id
                HAVING count(m.customer_id) = 0 OR count(m.customer_id) <> count(DISTINCT m.currency)
                    + CASE WHEN count(*) FILTER (WHERE m.currency IS NULL) > 0 THEN 1 ELSE 0 END""",
        ),
        ModelCheck(
            name="paid_equals_the_charges",
            description="per currency, Σ amount_paid equals Σ amount_captured of succeeded charges of known customers",
            sql=f"""
                SELECT coalesce(m.currency, b.currency) AS currency, m.total AS model, b.total AS charges
                FROM (SELECT currency, sum(amount_paid) AS total FROM {SCHEMA}.customer_overview
                      WHERE currency IS NOT NULL GROUP BY 1) m
                FULL OUTER JOIN (
                    SELECT ch.currency, sum(ch.amount_captured) AS total FROM stripe.charges ch
                    JOIN stripe.customers cu ON cu.id = ch.customer
                    WHERE ch.status = 'succeeded' AND ch._deleted_at IS NULL GROUP BY 1
                ) b ON m.currency = b.currency
                WHERE m.total IS DISTINCT FROM b.total AND NOT (m.total = 0 AND b.total IS NULL)""",
        ),
    ),
)

SUBSCRIPTION_ITEM_MRR = Model(
    name="subscription_item_mrr",
    description=(
        "Monthly recurring revenue per subscription item and month, and its movement: new, expansion, "
        "contraction, churn or reactivation. Read from stripe.subscription_items and their subscriptions."
    ),
    inputs=("subscriptions", "subscription_items"),
    columns=_columns(
        month="The month (its first day); its MRR is the one at the end of the month, or now for this month.",
        account_id="The Stripe account the row's objects belong to (a connected account, or the platform's own).",
        subscription_item_id="The subscription item (si_...).",
        subscription_id="Its subscription (sub_...).",
        customer_id="The subscription's customer (cus_...).",
        price_id="The item's price (price_...).",
        product_id="The price's product (prod_...).",
        currency="The price's currency.",
        mrr="The item's monthly recurring revenue (minor units): unit amount x quantity, per month.",
        previous_mrr="The item's MRR the month before (0 if it had none).",
        mrr_change="mrr - previous_mrr.",
        movement="new (first MRR), expansion, contraction, churn (to 0), reactivation (back from 0) or unchanged.",
        new_mrr="mrr_change when the movement is new, else 0.",
        expansion_mrr="mrr_change when the movement is expansion, else 0.",
        contraction_mrr="mrr_change (negative) when the movement is contraction, else 0.",
        churned_mrr="mrr_change (negative) when the movement is churn, else 0.",
        reactivation_mrr="mrr_change when the movement is reactivation, else 0.",
    ),
    checks=(
        ModelCheck(
            name="movements_sum_to_the_change_in_mrr",
            description="per month and currency, new + expansion + contraction + churn + reactivation = Δ MRR",
            sql=f"""
                SELECT month, currency FROM {SCHEMA}.subscription_item_mrr GROUP BY month, currency
                HAVING sum(new_mrr + expansion_mrr + contraction_mrr + churned_mrr + reactivation_mrr)
                    <> sum(mrr) - sum(previous_mrr)""",
        ),
        ModelCheck(
            name="previous_mrr_is_last_months_mrr",
            description="per currency, a month's Σ previous_mrr equals the month before's Σ mrr",
            sql=f"""
                WITH totals AS (
                    SELECT month, currency, sum(mrr) AS mrr, sum(previous_mrr) AS previous
                    FROM {SCHEMA}.subscription_item_mrr GROUP BY 1, 2
                )
                SELECT t.month, t.currency, t.previous, coalesce(b.mrr, 0) AS month_before
                FROM totals t LEFT JOIN totals b ON b.currency = t.currency AND b.month = t.month - INTERVAL 1 MONTH
                WHERE t.previous <> coalesce(b.mrr, 0)""",
        ),
    ),
)

BALANCE_TRANSACTIONS_ENRICHED = Model(
    name="balance_transactions_enriched",
    description=(
        "Every balance transaction with its source object, the charge and customer behind it, and the "
        "payout that took its funds to the bank."
    ),
    inputs=("balance_transactions", "charges", "refunds", "disputes", "payouts", "payout_balance_transactions"),
    columns=_columns(
        account_id="The Stripe account the row's objects belong to (a connected account, or the platform's own).",
        balance_transaction_id="The balance transaction (txn_...).",
        created="When it was created.",
        available_on="When its funds become available in the balance.",
        currency="Its currency.",
        type="Stripe's type of the transaction (charge, refund, payout, adjustment...).",
        reporting_category="Stripe's reporting category (charge, refund, dispute, payout...).",
        status="available or pending.",
        amount="Gross amount (minor units).",
        fee="Stripe fees.",
        net="amount - fee: what it changes in the balance.",
        source_id="The id of the object that caused it.",
        source_object=(
            "What that object is: charge, refund, dispute, payout, transfer, transfer_reversal,"
            " application_fee or application_fee_refund."
        ),
        charge_id="The charge behind it: the charge itself, or the charge refunded or disputed.",
        payment_intent_id="That charge's payment intent.",
        customer_id="That charge's customer.",
        payout_id=(
            "The payout: for a payout's own transactions that payout; else the automatic payout that paid it "
            "out, as Stripe lists it in stripe.payout_balance_transactions (NULL: not paid out yet, or by a "
            "manual payout, which Stripe links to no transaction)."
        ),
        payout_status="That payout's status.",
        payout_arrival_date="When that payout arrives (arrived) at the bank.",
    ),
    checks=(
        _same_rows("balance_transactions_enriched", "balance_transaction_id", "stripe.balance_transactions"),
        ModelCheck(
            name="amounts_equal_base_rows",
            description="each row's amount, fee and net equal its balance transaction's",
            sql=f"""
                SELECT m.balance_transaction_id FROM {SCHEMA}.balance_transactions_enriched m
                JOIN stripe.balance_transactions b ON b.id = m.balance_transaction_id
                WHERE (m.amount, m.fee, m.net) IS DISTINCT FROM (b.amount, b.fee, b.net)""",
        ),
    ),
)

PAYOUT_RECONCILIATION = Model(
    name="payout_reconciliation",
    description="Per payout: its amount against the balance transactions it paid out, by category.",
    inputs=("payouts",),
    models=("balance_transactions_enriched",),
    columns=_columns(
        account_id="The Stripe account the row's objects belong to (a connected account, or the platform's own).",
        payout_id="The payout (po_...).",
        created="When the payout was created.",
        arrival_date="When it arrives (arrived) at the bank.",
        currency="Its currency.",
        status="paid, in_transit, pending, failed or canceled.",
        automatic="Whether Stripe created it on the account's payout schedule.",
        amount="The amount paid out (minor units).",
        balance_transactions="The balance transactions it paid out (its own apart).",
        gross_charges="Σ amount of the charges among them.",
        refunds="Σ refunded (positive) among them.",
        disputes="Σ withdrawn (positive) by disputes among them.",
        other_activity="Σ amount of the other transactions among them.",
        fees="Σ Stripe fees of them.",
        net="Σ net of them: what the payout should be.",
        unexplained="amount - net: 0 when the loaded transactions explain the payout.",
    ),
    checks=(
        _same_rows("payout_reconciliation", "payout_id", "stripe.payouts"),
        ModelCheck(
            name="sums_equal_the_enriched_transactions",
            description="Σ net over payouts equals Σ net of the enriched transactions assigned to a payout",
            sql=f"""
                SELECT m.total AS model, b.total AS transactions
                FROM (SELECT coalesce(sum(net), 0) AS total FROM {SCHEMA}.payout_reconciliation) m,
                     (SELECT coalesce(sum(e.net), 0) AS total FROM {SCHEMA}.balance_transactions_enriched e
                      JOIN stripe.payouts p ON p.id = e.payout_id AND p._deleted_at IS NULL
                      WHERE e.reporting_category NOT IN {PAYOUTS}) b
                WHERE m.total <> b.total""",
        ),
        ModelCheck(
            name="payouts_explained",
            description=(
                "every payout's amount equals the net of the transactions it paid out "
                "(WARN: with partial history some of them are not loaded)"
            ),
            sql=f"""SELECT payout_id, currency, amount, net, unexplained FROM {SCHEMA}.payout_reconciliation
                WHERE unexplained <> 0""",
            severity="WARN",
        ),
    ),
)

MODELS: tuple[Model, ...] = (
    DAILY_OVERVIEW,
    CUSTOMER_OVERVIEW,
    SUBSCRIPTION_ITEM_MRR,
    BALANCE_TRANSACTIONS_ENRICHED,
    PAYOUT_RECONCILIATION,
)


def get_model(name: str) -> Model:
    for model in MODELS:
        if model.name == name:
            return model
    raise KeyError(f"no model {name!r}; the models are {', '.join(m.name for m in MODELS)}")
