import pytest

from scoring.tiers import enterprise_class, person_tier


@pytest.mark.parametrize(
    ("score", "code", "zh"),
    [
        (350, "poor", "较差"),
        (549, "poor", "较差"),
        (550, "fair", "中等"),
        (599, "fair", "中等"),
        (600, "good", "良好"),
        (649, "good", "良好"),
        (650, "very_good", "优秀"),
        (699, "very_good", "优秀"),
        (700, "excellent", "极好"),
        (950, "excellent", "极好"),
    ],
)
def test_tier_boundaries(score: int, code: str, zh: str) -> None:
    tier = person_tier(score)
    assert (tier.code, tier.zh) == (code, zh)


def test_states_that_are_never_a_number() -> None:
    assert person_tier(None).code == "insufficient_record"
    assert person_tier(None).zh == "信用记录不足"
    assert person_tier(720, minor=True).code == "minor"
    with pytest.raises(ValueError, match="score 951 outside 350-950"):
        person_tier(951)


@pytest.mark.parametrize(
    ("pd", "listings", "model", "final", "applied"),
    [
        (0.01, [], "A", "A", ()),
        (0.0299, [], "A", "A", ()),
        (0.03, [], "B", "B", ()),
        (0.2, [], "C", "C", ()),
        (0.25, [], "D", "D", ()),
        (0.01, ["abnormal_operation"], "A", "B", ("abnormal_operation",)),
        (
            0.01,
            ["judgment_defaulter", "abnormal_operation"],
            "A",
            "C",
            ("abnormal_operation", "judgment_defaulter"),
        ),
        (0.01, ["serious_dishonesty_list"], "A", "D", ("serious_dishonesty_list",)),
        (0.5, ["abnormal_operation"], "D", "D", ()),
        (0.01, ["red_list"], "A", "A", ()),
    ],
)
def test_enterprise_class_and_downgrades(pd, listings, model, final, applied) -> None:
    d = enterprise_class(pd, listings)
    assert (d.model_class, d.final_class, d.downgrades) == (model, final, applied)
