"""A small English FAQ of a bakery, and questions about it in other languages."""

from __future__ import annotations

FAQ = [
    {
        "id": "hours",
        "question": "What are your opening hours?",
        "answer": "We are open Monday to Friday from 7am to 7pm, and on Saturday and Sunday "
        "from 8am to 4pm. We are closed on public holidays.",
        "category": "Visiting",
    },
    {
        "id": "delivery",
        "question": "Do you deliver?",
        "answer": "Yes, we deliver within 10 km of the bakery. Delivery costs $5 and is free "
        "for orders over $50. Orders placed before noon arrive the same day.",
        "category": "Orders",
    },
    {
        "id": "returns",
        "question": "What is your refund and returns policy?",
        "answer": "If something is wrong with your order, tell us within 24 hours with a photo "
        "and we will refund or replace it. Fresh bakes cannot be returned once collected.",
        "category": "Orders",
    },
    {
        "id": "payment",
        "question": "Which payment methods do you accept?",
        "answer": "We accept cash, Visa and Mastercard cards, M-Pesa and PayPal. We do not "
        "accept cheques.",
        "category": "Orders",
    },
    {
        "id": "location",
        "question": "Where is the bakery located?",
        "answer": "You will find us at 12 Market Street, next to the central bus station. "
        "Free parking is available behind the shop.",
        "category": "Visiting",
    },
    {
        "id": "allergens",
        "question": "Do your products contain nuts, gluten or other allergens?",
        "answer": "Our kitchen handles wheat, milk, eggs, nuts and sesame. We bake gluten-free "
        "bread, but we cannot guarantee it is free from traces of nuts or gluten.",
        "category": "Products",
    },
    {
        "id": "custom-cakes",
        "question": "Can I order a custom cake for a birthday or a wedding?",
        "answer": "Yes! Order custom cakes at least 3 days in advance (2 weeks for wedding "
        "cakes). Tell us the size, flavour and design; prices start at $40.",
        "category": "Products",
    },
    {
        "id": "gift-cards",
        "question": "Do you sell gift cards?",
        "answer": "Yes, gift cards from $10 to $200 are sold in the shop and online. They are "
        "valid for one year.",
        "category": "Products",
    },
    {
        "id": "jobs",
        "question": "Are you hiring?",
        "answer": "We are always looking for bakers and shop assistants. Send your CV to "
        "jobs@sunrise-bakery.example.",
        "category": "Company",
    },
    {
        "id": "wifi",
        "question": "Do you have free wifi?",
        "answer": "Yes, free wifi is available for customers in the café. The password is "
        "printed on your receipt.",
        "category": "Visiting",
    },
]

# (language, query, the FAQ id that answers it)
QUERIES = [
    ("en", "When do you close on Saturday?", "hours"),
    ("en", "Can I pay with M-Pesa?", "payment"),
    ("en", "Is there parking near the shop?", "location"),
    ("en", "I want my money back, the bread was stale", "returns"),
    ("fr", "Quelles sont vos heures d'ouverture ?", "hours"),
    ("fr", "Est-ce que vous livrez à domicile ?", "delivery"),
    ("fr", "Puis-je payer par carte bancaire ?", "payment"),
    ("fr", "Où se trouve votre boulangerie ?", "location"),
    ("fr", "Vos gâteaux contiennent-ils des noix ?", "allergens"),
    ("fr", "Vendez-vous des cartes cadeaux ?", "gift-cards"),
    ("sv", "När har ni öppet?", "hours"),
    ("sv", "Kan jag beställa en tårta till ett bröllop?", "custom-cakes"),
    ("sv", "Säljer ni presentkort?", "gift-cards"),
    ("sv", "Har ni lediga jobb?", "jobs"),
    ("sv", "Kan jag få pengarna tillbaka om något är fel?", "returns"),
    ("sv", "Finns det gratis wifi?", "wifi"),
    ("sw", "Mnafungua saa ngapi?", "hours"),
    ("sw", "Je, mnaleta mikate nyumbani?", "delivery"),
    ("sw", "Naweza kulipa kwa M-Pesa?", "payment"),
    ("sw", "Duka lenu liko wapi?", "location"),
    ("sw", "Je, kuna wifi ya bure?", "wifi"),
    ("sw", "Je, mnaajiri wafanyakazi?", "jobs"),
    ("es", "¿A qué hora abren?", "hours"),
    ("es", "¿Hacen entregas a domicilio?", "delivery"),
    ("es", "¿Venden tarjetas de regalo?", "gift-cards"),
    ("es", "¿Tienen ofertas de trabajo?", "jobs"),
    ("es", "¿Cuál es la contraseña del wifi?", "wifi"),
    ("es", "¿Puedo pedir un pastel personalizado para una boda?", "custom-cakes"),
    ("es", "¿Sus productos tienen gluten?", "allergens"),
]
