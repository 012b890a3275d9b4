"""05_cross_entropy: the questionnaire's checks, with the answers a learner could give."""
from ...exercise import question

QUESTIONS = [
    question("q_softmax_shift_answer", 1, "q_softmax_shift", "a", choices=("a", "b", "c"),
             doc="q_softmax_shift names what subtracting the max does to the softmax.",
             right={"a capital letter": '"A"'}, wrong={"the shift changes the probabilities": '"b"'}),
    question("q_table_loss_answer", 1, "q_table_loss", 1.0,
             doc="q_table_loss is the lesson's table's loss for Pred(Cat) = 0.1 on a cat, in its base-10 units.",
             right={"written as -log10(0.1)": "-math.log10(0.1)"},
             wrong={"the natural log, not the table's base 10": "-math.log(0.1)"}),
    question("q_grad_entry_answer", 1, "q_grad_entry", -0.1,
             doc="q_grad_entry is one entry of the gradient of the mean cross-entropy for a batch of 2.",
             right={"as a fraction": "(0.8 - 1) / 2"}, wrong={"without the division by B": "0.8 - 1"}),
]
