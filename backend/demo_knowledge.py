"""The demo business's starter knowledge: a bakery's FAQ in English, a few entries in French."""

from __future__ import annotations

# (group, language, question, answer); entries sharing a group translate one another.
DEMO_FAQ: list[tuple[str, str, str, str]] = [
    ("hours", "en", "What are your opening hours?",
     "We are open Monday to Saturday from 7:00 to 19:00, and Sunday from 8:00 to 13:00. "
     "We are closed on public holidays."),
    ("hours", "fr", "Quels sont vos horaires d'ouverture ?",
     "Nous sommes ouverts du lundi au samedi de 7h00 à 19h00, et le dimanche de 8h00 à 13h00. "
     "Nous sommes fermés les jours fériés."),
    ("delivery", "en", "Do you deliver, and how much does delivery cost?",
     "Yes. We deliver within 10 km of the bakery every day from 9:00 to 17:00. Delivery costs "
     "$3, and is free for orders over $30. Orders placed before 11:00 arrive the same day."),
    ("delivery", "fr", "Livrez-vous, et combien coûte la livraison ?",
     "Oui. Nous livrons dans un rayon de 10 km tous les jours de 9h00 à 17h00. La livraison "
     "coûte 3 $ et elle est gratuite dès 30 $ d'achat. Les commandes passées avant 11h00 "
     "arrivent le jour même."),
    ("returns", "en", "What is your returns and refund policy?",
     "If something is wrong with your order, tell us within 24 hours with a photo and we will "
     "replace it or refund you in full. Fresh bakery items cannot be returned otherwise."),
    ("returns", "fr", "Quelle est votre politique de retour et de remboursement ?",
     "Si un produit pose problème, prévenez-nous dans les 24 heures avec une photo : nous le "
     "remplaçons ou vous remboursons intégralement. Les produits frais ne sont pas repris "
     "autrement."),
    ("payment", "en", "Which payment methods do you accept?",
     "We accept cash, Visa and Mastercard, M-Pesa and PayPal. For online orders we send you a "
     "secure payment link in the chat."),
    ("payment", "fr", "Quels moyens de paiement acceptez-vous ?",
     "Nous acceptons les espèces, Visa et Mastercard, M-Pesa et PayPal. Pour les commandes en "
     "ligne, nous vous envoyons un lien de paiement sécurisé dans la conversation."),
    ("location", "en", "Where is the bakery?",
     "Sunrise Bakery is at 12 Market Street, next to the central bus station. There is free "
     "parking behind the shop."),
    ("cakes", "en", "Can I order a custom birthday or wedding cake?",
     "Yes! Custom cakes need at least 48 hours' notice (two weeks for wedding cakes). Tell us "
     "the size, flavour and design, and we'll send you a quote."),
    ("allergens", "en", "Do you have gluten-free or vegan options?",
     "We bake gluten-free bread on Tuesdays and Fridays and always have vegan cookies and "
     "sourdough. All our products may contain traces of nuts."),
    ("bread", "en", "What bread do you bake every day?",
     "Every day we bake white and wholemeal loaves, sourdough, baguettes, croissants and "
     "cinnamon rolls. Sourdough sells out by noon, so order ahead."),
]  # fmt: skip

DEMO_RULES = {
    "persona_name": "Sunny",
    "tone": "friendly",
    "greeting": "Hi! I'm Sunny, Sunrise Bakery's assistant. Ask me about our bread, cakes, "
    "opening hours or delivery.",
    "out_of_hours_message": "We're closed right now; we open again at 7:00. Leave your "
    "question and we'll answer it first thing.",
    "handoff_keywords": ["complaint", "refund", "allergic reaction"],
    "blocked_topics": ["politics", "medical advice"],
}
