import pytest

from shared.codes import ModelVariant
from shared.errors import InvalidInput
from shared.teryt import terc


def test_register_has_every_gmina_of_poland() -> None:
    assert len(terc()) == 2477


@pytest.mark.parametrize(
    ("code", "variant"),
    [
        ("0601032", ModelVariant.RURAL),
        ("0601113", ModelVariant.URBAN_RURAL),
        ("0601011", ModelVariant.URBAN),
        ("1465011", ModelVariant.URBAN),
    ],
)
def test_variant_follows_the_gmina_type(code: str, variant: ModelVariant) -> None:
    gmina = terc().gmina(code)
    assert gmina.variant is variant
    assert gmina.powiat == code[:4] and gmina.region == code[:2]


@pytest.mark.parametrize("code", ["0601114", "0601115", "9999999", "06010"])
def test_parts_of_gminas_and_unknown_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        terc().gmina(code, field="gmina")
    assert err.value.field == "gmina"
