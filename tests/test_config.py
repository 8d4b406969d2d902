from core.config import Settings, load_settings


def test_defaults_without_environment():
    assert load_settings(env={}) == Settings()


def test_environment_variables_map_onto_fields_with_types():
    s = load_settings(env={"RAG_TOP_K": "9", "RAG_MIN_RELEVANCE": "0.4", "RAG_GENERATOR": "hf:tiny"})
    assert (s.top_k, s.min_relevance, s.generator) == (9, 0.4, "hf:tiny")


def test_explicit_overrides_beat_environment_and_none_means_not_given():
    s = load_settings(env={"RAG_TOP_K": "9"}, top_k=3, index_dir=None)
    assert s.top_k == 3
    assert s.index_dir == Settings().index_dir
