"""The encoder on the real bundled all-MiniLM-L6-v2 (offline), loaded once for the session."""

import numpy as np
import pytest

from recommender.ml import encoder as encoder_module
from recommender.ml.encoder import DEFAULT_MODEL_NAME, Encoder, get_encoder, model_name_for, pick_device


@pytest.fixture(scope="session")
def encoder():
    return get_encoder("", "cpu")


def cosine(a, b):
    return float(np.dot(a, b))


def test_bundled_model_gives_384_dim_unit_float32_vectors(encoder):
    vectors = encoder.encode(["Toy Story. Animation, Children's, Comedy. 1995.", "GoldenEye. Action. 1995."])
    assert (encoder.model_name, encoder.dim, encoder.device) == (DEFAULT_MODEL_NAME, 384, "cpu")
    assert encoder.max_length == 256
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), [1.0, 1.0], atol=1e-5)


def test_paraphrase_is_closer_than_an_unrelated_title(encoder):
    space, paraphrase, unrelated = encoder.encode(
        ["A film about astronauts lost in space", "A movie about space travellers adrift", "Cooking pasta at home"]
    )
    assert cosine(space, paraphrase) > cosine(space, unrelated) + 0.3


def test_matches_sentence_transformers_and_keeps_input_order(encoder):
    texts = ["short", "a much longer text about a film with several words in it", "", "mid length text"]
    ours = encoder.encode(texts, batch_size=2)
    reference = encoder._st.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_empty_long_and_non_ascii_texts(encoder):
    long_text = "word " * 5000
    empty, long, cut, japanese, accented, none = encoder.encode(
        ["", long_text, "word " * 300, "東京物語 (Tokyo Story)", "Amélie. Comédie. 2001.", None]
    )
    np.testing.assert_allclose([np.linalg.norm(v) for v in (empty, long, japanese, accented)], 1.0, atol=1e-5)
    np.testing.assert_allclose(long, cut, atol=1e-6)  # both truncated at the model's 256 tokens
    np.testing.assert_allclose(none, empty, atol=1e-6)
    assert cosine(japanese, empty) < 0.9


def test_identical_texts_are_encoded_once(encoder, monkeypatch):
    seen = []
    real = encoder._encode_unique
    monkeypatch.setattr(encoder, "_encode_unique", lambda texts, **kw: seen.append(list(texts)) or real(texts, **kw))
    vectors = encoder.encode(["Heat", " Heat ", "Alien", "Heat"])
    assert seen == [["Heat", "Alien"]]
    np.testing.assert_array_equal(vectors[0], vectors[3])
    assert encoder.encode([]).shape == (0, 384)


def test_short_texts_go_in_bigger_batches():
    lengths = np.array([300, 10, 10, 10, 10, 10])
    batches = [list(b) for b in encoder_module._batches(np.argsort(-lengths, kind="stable"), lengths, batch_size=2)]
    # budget 2 * 32 = 64 tokens: the batch led by the long text keeps batch_size rows, short ones share one
    assert batches == [[0, 1], [2, 3, 4, 5]]


def test_plain_bert_without_sentence_transformers_files_uses_mean_pooling(encoder, tmp_path):
    # The same weights saved as a bare transformers checkpoint: MiniLM is mean pooling + normalise.
    encoder._st[0].auto_model.save_pretrained(tmp_path)
    encoder.tokenizer.save_pretrained(tmp_path)
    plain = Encoder(str(tmp_path), "cpu")
    texts = ["Toy Story. Animation. 1995.", "東京物語"]
    assert (plain.model_name, plain.dim) == (tmp_path.name, 384)
    np.testing.assert_allclose(plain.encode(texts), encoder.encode(texts), atol=1e-5)


def test_model_names_and_device():
    assert model_name_for("") == "all-MiniLM-L6-v2"
    assert model_name_for("bert-base-chinese") == "bert-base-chinese"
    assert pick_device("cuda") == "cuda"
    assert pick_device("") in {"cpu", "cuda"}
    assert get_encoder("", "cpu") is get_encoder("", "cpu")
