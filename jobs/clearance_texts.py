# ruff: noqa: E501  (message texts: lines break where the e-mail breaks them)
"""The shipped customs clearance reminder texts (en, fr, zh-hans): loaded into
``ClearanceReminderTemplate`` by a migration, and used as they are when no template exists."""

TEMPLATES = {
    "en": (
        "Your parcel {{ order_id }} is held at customs: what to do",
        """Hello {{ customer_name }},

Your parcel for order {{ order_id }} ({{ marketplace }}) is being held by customs in
{{ destination_country }}. It will be released once customs have what they need from you:

1. Watch for a message or a call from {{ carrier }} or the customs office, quoting tracking
   number {{ tracking_number }}. It tells you which documents are missing.
2. Send them what they ask for: usually a copy of your ID, the order invoice and, for some
   products, a declaration of use. Answer within the time they give you.
3. If duties or taxes are due, pay them through the link or office the carrier indicates.
4. Once customs release the parcel, it is delivered as usual.

If customs return or seize the parcel, we will refund you. Reply to this e-mail if anything
is unclear, and quote your case reference {{ case_reference }}.

The after-sales team""",
    ),
    "fr": (
        "Votre colis {{ order_id }} est retenu en douane : que faire",
        """Bonjour {{ customer_name }},

Votre colis de la commande {{ order_id }} ({{ marketplace }}) est retenu par la douane
({{ destination_country }}). Il sera libéré dès que la douane aura reçu ce qu'elle attend de vous :

1. Surveillez un message ou un appel de {{ carrier }} ou du bureau de douane, citant le numéro
   de suivi {{ tracking_number }}. Il précise les documents manquants.
2. Envoyez ce qui est demandé : en général une copie de votre pièce d'identité, la facture de
   la commande et, pour certains produits, une déclaration d'usage. Répondez dans le délai
   indiqué.
3. Si des droits ou taxes sont dus, réglez-les par le lien ou au bureau indiqué par le
   transporteur.
4. Une fois le colis libéré, il vous est livré normalement.

Si la douane renvoie ou saisit le colis, nous vous rembourserons. Répondez à ce message pour
toute question, en rappelant votre référence de dossier {{ case_reference }}.

Le service après-vente""",
    ),
    "zh-hans": (
        "您的包裹 {{ order_id }} 被海关扣留：清关步骤",
        """{{ customer_name }} 您好：

您在 {{ marketplace }} 的订单 {{ order_id }} 的包裹目前被海关（{{ destination_country }}）扣留。
海关收到所需资料后即会放行：

1. 请留意 {{ carrier }} 或海关发来的短信或电话（运单号 {{ tracking_number }}），其中会说明缺少哪些资料。
2. 按要求提交资料：通常为身份证复印件、订单发票，部分商品还需提供用途声明。请在规定时间内回复。
3. 如需缴纳关税或税费，请通过承运商提供的链接或网点缴纳。
4. 海关放行后，包裹将正常派送。

如包裹被海关退回或没收，我们将为您办理退款。如有疑问，请直接回复本邮件，并注明您的售后单号 {{ case_reference }}。

售后服务团队""",
    ),
}
