"""The ONNX Runtime backends of the encoder: exported once, same vectors (float32) or close ones
(int8) stored under their own name, and the Django side picks the backend from settings."""

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured

from recommender.embeddings import selectors, services
from recommender.ml import encoder as encoder_module
from recommender.ml.encoder import INT8_FILE, Encoder, get_encoder, model_name_for
from tests.factories import ItemFactory

TEXTS = [
    "Toy Story. Animation, Children's, Comedy. 1995.",
    "GoldenEye. Action, Adventure, Thriller. 1995.",
    "Heat. Action, Crime, Thriller. 1995.",
    "A quiet documentary about coral reefs and the people who study them.",
]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx")


def test_int8_vectors_are_close_to_float32_and_named_apart(onnx_dir):
    reference = get_encoder("", "cpu").encode(TEXTS)
    int8 = Encoder("", "cpu", "onnx-int8", str(onnx_dir))
    vectors = int8.encode(TEXTS)
    assert int8.model_name == "all-MiniLM-L6-v2@int8" and int8.device == "cpu"
    assert vectors.dtype == np.float32 and vectors.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert ((vectors * reference).sum(axis=1) > 0.97).all()  # bench/embed.py: mean 0.99 on ML-100K texts
    float32 = Encoder("", "cpu", "onnx", str(onnx_dir))
    assert float32.model_name == "all-MiniLM-L6-v2"  # the same vectors, so the same name
    np.testing.assert_allclose(float32.encode(TEXTS), reference, atol=1e-4)


def test_the_onnx_files_are_exported_once(onnx_dir, monkeypatch):
    Encoder("", "cpu", "onnx-int8", str(onnx_dir))
    exported = onnx_dir / "all-MiniLM-L6-v2-onnx" / INT8_FILE
    assert exported.is_file() and not list(onnx_dir.glob("*.building-*"))
    monkeypatch.setattr(encoder_module, "_export_onnx", lambda *args: pytest.fail("exported again"))
    Encoder("", "cpu", "onnx-int8", str(onnx_dir))


def test_names_by_backend_and_an_unknown_backend_is_refused():
    assert model_name_for("", "torch") == model_name_for("", "onnx") == "all-MiniLM-L6-v2"
    assert model_name_for("bert-base-chinese", "onnx-int8") == "bert-base-chinese@int8"
    with pytest.raises(ValueError, match="unknown embedding backend 'tensorrt'"):
        model_name_for("", "tensorrt")


@pytest.mark.django_db
def test_the_configured_backend_embeds_and_stores_under_its_name(settings, onnx_dir):
    settings.EMBEDDING_BACKEND, settings.EMBEDDING_ONNX_DIR = "onnx-int8", onnx_dir
    item = ItemFactory(title="Toy Story")
    assert selectors.current_model_name() == "all-MiniLM-L6-v2@int8"
    services.embed_items(item_ids=[item.pk])
    ids, vectors = selectors.item_vectors(item_ids=[item.pk])
    assert list(ids) == [item.pk] and vectors.shape == (1, 384)
    assert selectors.item_vectors(item_ids=[item.pk], model_name="all-MiniLM-L6-v2")[0].size == 0


def test_an_unknown_backend_setting_stops_the_process(monkeypatch):
    import importlib

    import config.settings

    monkeypatch.setenv("EMBEDDING_BACKEND", "tensorrt")
    with pytest.raises(ImproperlyConfigured, match="EMBEDDING_BACKEND='tensorrt'"):
        importlib.reload(config.settings)
    monkeypatch.delenv("EMBEDDING_BACKEND")
    importlib.reload(config.settings)
