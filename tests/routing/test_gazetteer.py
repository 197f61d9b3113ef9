"""The gazetteer: carrier place text, IATA codes and Russian postcodes to network nodes, never invented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from defusedxml import ElementTree
from hypothesis import given
from hypothesis import strategies as st

from routing.gazetteer import NETWORK_FILE, PLACES_FILE, Gazetteer, default_gazetteer
from tests.carriers.samples import sample_path

RP_SAMPLE = sample_path("russianpost_getOperationHistory_response_domestic.xml")
RP_NS = "{http://russianpost.org/operationhistory/data}"

gazetteer = default_gazetteer()
NODE_IDS = frozenset(
    node["id"]
    for path in (NETWORK_FILE, NETWORK_FILE.with_name("network_reverse.json"))  # both directions (issue 17)
    for node in json.loads(path.read_text(encoding="utf-8"))["nodes"]
)


def place_of(name: str | None, **kwargs: str) -> str | None:
    match = gazetteer.resolve(name, **kwargs)
    return match.place_id if match else None


@pytest.mark.parametrize(
    ("name", "place_id"),
    [
        ("Москва", "ru_moscow"),
        ("Новосибирск", "ru_novosibirsk"),
        ("Казань", "ru_kazan"),
        ("Екатеринбург", "ru_yekaterinburg"),
        ("Владивосток", "ru_vladivostok"),
        ("Санкт-Петербург", "ru_spb"),
        ("САНКТ ПЕТЕРБУРГ", "ru_spb"),
        ("Подольск", "ru_asc_podolsk"),
        ("Внуково", "ru_mmpo_vnukovo"),
        ("Толмачёво", "ru_lc_novosibirsk"),
        ("Уссурийск", "ru_ussuriysk"),
    ],
)
def test_russian_names(name: str, place_id: str) -> None:
    assert place_of(name) == place_id


@pytest.mark.parametrize(
    ("name", "place_id"),
    [
        ("深圳", "cn_shenzhen"),
        ("广州", "cn_guangzhou"),
        ("义乌", "cn_yiwu"),
        ("杭州", "cn_hangzhou"),
        ("上海", "cn_shanghai"),
        ("北京", "cn_beijing"),
        ("郑州", "cn_zhengzhou"),
        ("哈尔滨", "cn_harbin"),
        ("满洲里", "cn_manzhouli"),
        ("绥芬河", "cn_suifenhe"),
        ("乌鲁木齐", "cn_urumqi"),
        ("莫斯科", "ru_moscow"),
    ],
)
def test_chinese_names(name: str, place_id: str) -> None:
    assert place_of(name) == place_id


@pytest.mark.parametrize(
    ("name", "place_id"),
    [
        ("Shenzhen", "cn_shenzhen"),
        ("Moscow", "ru_moscow"),
        ("Ekaterinburg", "ru_yekaterinburg"),
        ("St. Petersburg", "ru_spb"),
        ("Urumqi", "cn_urumqi"),
        ("Khorgos (Horgos)", "cn_khorgos"),
        ("Horgos", "cn_khorgos"),
    ],
)
def test_english_names(name: str, place_id: str) -> None:
    assert place_of(name) == place_id


def test_a_node_name_is_matched_as_a_name_and_an_alias_as_an_alias() -> None:
    by_name = gazetteer.resolve("Novosibirsk")
    by_alias = gazetteer.resolve("Новосибирск")
    assert by_name is not None and by_name.matched_by == "name"
    assert by_alias is not None and by_alias.matched_by == "alias"


@pytest.mark.parametrize(
    ("code", "place_id"),
    [
        ("SVO", "ru_air_svo"),
        ("VKO", "ru_air_vko"),
        ("DME", "ru_air_dme"),
        ("OVB", "ru_air_ovb"),
        ("KZN", "ru_air_kzn"),
        ("SVX", "ru_air_svx"),
        ("HGH", "cn_air_hgh"),
        ("PVG", "cn_air_pvg"),
        ("PEK", "cn_air_pek"),
        ("CAN", "cn_air_can"),
        ("SZX", "cn_air_szx"),
        ("CGO", "cn_air_cgo"),
        ("HRB", "cn_air_hrb"),
        ("MOW", "ru_moscow"),
    ],
)
def test_iata_codes(code: str, place_id: str) -> None:
    match = gazetteer.resolve(None, code=code)
    assert match is not None
    assert (match.place_id, match.matched_by) == (place_id, "iata")
    assert place_of(code) == place_id
    assert place_of(None, code=code.lower()) == place_id


def test_an_iata_code_wins_over_the_name() -> None:
    assert place_of("Moscow", code="VKO") == "ru_air_vko"


def test_a_code_inside_free_text_is_used_when_no_name_is() -> None:
    assert place_of("MOW sorting center") == "ru_moscow"


def test_a_code_that_is_an_english_word_is_not_read_inside_text() -> None:
    assert place_of("CAN NOT DELIVER") is None


def test_city_postcode_prefix() -> None:
    match = gazetteer.resolve("Самара 63", postcode="443063")
    assert match is not None
    assert (match.place_id, match.matched_by) == ("ru_samara", "postcode")


@pytest.mark.parametrize(
    ("postcode", "place_id"),
    [
        ("630960", "ru_novosibirsk"),
        ("102976", "ru_mmpo_vnukovo"),
        ("140983", "ru_asc_podolsk"),
        ("101000", "ru_moscow"),
        ("129090", "ru_moscow"),
        ("190000", "ru_spb"),
        ("420111", "ru_kazan"),
        ("620014", "ru_yekaterinburg"),
        ("690091", "ru_vladivostok"),
        ("630 960", "ru_novosibirsk"),
    ],
)
def test_postcodes(postcode: str, place_id: str) -> None:
    assert place_of(None, postcode=postcode) == place_id


def test_an_exact_postcode_beats_its_prefix() -> None:
    exact = gazetteer.resolve(None, postcode="102976")
    prefix = gazetteer.resolve(None, postcode="102000")
    assert exact is not None and prefix is not None
    assert (exact.place_id, prefix.place_id) == ("ru_mmpo_vnukovo", "ru_moscow")
    assert exact.confidence > prefix.confidence


def test_exact_name_beats_a_region_wide_prefix() -> None:
    assert place_of("Забайкальск", postcode="674650") == "ru_zabaikalsk"
    elsewhere = gazetteer.resolve("Улёты", postcode="674050")
    assert elsewhere is not None and elsewhere.place_id == "ru_chita" and elsewhere.confidence < 0.8


@pytest.mark.parametrize("postcode", ["170000", "170100", "000000", "12345", "1234567", "abcdef", ""])
def test_postcodes_of_regions_without_a_node_or_malformed_give_nothing(postcode: str) -> None:
    assert place_of(None, postcode=postcode) is None


def test_a_chinese_postcode_is_not_read_as_russian() -> None:
    assert place_of(None, country="CN", postcode="450000") is None


SAMPLE_OFFICES = [
    ("Самара 63", "443063", "ru_samara"),
    ("Самара МСЦ", "443960", "ru_samara"),
    ("Московский АСЦ Цех Посылок", "140983", "ru_asc_podolsk"),
    ("Московский АСЦ Цех Логистики", "140980", "ru_asc_podolsk"),
    ("Тверь Почтамт", "170000", None),
    ("Тверь 100", "170100", None),
]


@pytest.mark.parametrize(("name", "postcode", "place_id"), SAMPLE_OFFICES)
def test_russian_post_sample_offices_by_name_and_index(
    name: str, postcode: str, place_id: str | None
) -> None:
    assert place_of(name, country="RU", postcode=postcode) == place_id


@pytest.mark.parametrize(("name", "postcode", "place_id"), SAMPLE_OFFICES)
def test_russian_post_sample_offices_by_name_alone(name: str, postcode: str, place_id: str | None) -> None:
    assert place_of(name) == place_id


def test_every_office_of_the_russian_post_sample_is_covered() -> None:
    root = ElementTree.parse(RP_SAMPLE).getroot()
    offices = {
        (address.findtext(f"{RP_NS}Description"), address.findtext(f"{RP_NS}Index"))
        for address in root.iter(f"{RP_NS}OperationAddress")
    }
    assert offices == {(name, postcode) for name, postcode, _ in SAMPLE_OFFICES}


@pytest.mark.parametrize(
    ("name", "place_id"),
    [
        ("Новосибирск ММПО", "ru_lc_novosibirsk"),
        ("ММПО Новосибирск цех 2", "ru_lc_novosibirsk"),
        ("Москва ММПО", "ru_moscow"),
        ("МР ЛЦ Внуково Цех-1", "ru_mmpo_vnukovo"),
        ("ЛЦ Внуково-2", "ru_mmpo_vnukovo"),
        ("Екатеринбург сортировочный центр", "ru_yekaterinburg"),
        ("深圳市转运中心", "cn_shenzhen"),
        ("【义乌分拨中心】已发出", "cn_yiwu"),
        ("Shenzhen sorting center", "cn_shenzhen"),
        ("GUANGZHOU CN", "cn_guangzhou"),
        ("Moscow Sheremetyevo airport", "ru_air_svo"),
        ("г. Уфа", "ru_ufa"),
    ],
)
def test_facility_words_and_surrounding_text(name: str, place_id: str) -> None:
    assert place_of(name) == place_id


@pytest.mark.parametrize(
    "name",
    ["Тверь", "Ростов Великий", "Петропавловск-Камчатский", "Destination city", "Israel", "", "   ", "63"],
)
def test_unknown_places_give_nothing(name: str) -> None:
    assert place_of(name) is None


def test_country_restricts_the_answer() -> None:
    assert place_of("Moscow", country="CN") is None
    assert place_of("Moscow", country="Russia") == "ru_moscow"
    assert place_of("Hong Kong", country="CN") == "hk_hongkong"
    assert place_of("Shenzhen", country="Mainland China") == "cn_shenzhen"


def test_a_match_carries_the_node_details() -> None:
    match = gazetteer.resolve("Владивосток")
    assert match is not None
    assert (match.country, match.timezone) == ("RU", "Asia/Vladivostok")
    assert (round(match.lat, 2), round(match.lon, 2)) == (43.11, 131.87)


def test_nearest_node() -> None:
    nearest = gazetteer.nearest_node(55.75, 37.62)
    assert nearest is not None and nearest[0].id == "ru_moscow" and nearest[1] < 1
    in_china = gazetteer.nearest_node(55.75, 37.62, country="CN")
    assert in_china is not None and in_china[0].country == "CN"


def test_the_default_gazetteer_is_built_once() -> None:
    assert default_gazetteer() is default_gazetteer()


def test_every_place_id_in_the_alias_file_is_a_network_node() -> None:
    data = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    referenced = {pid for group in data["aliases"] for pid in group["places"]}
    referenced |= {pid for group in data["iata_codes"] for pid in group["codes"].values()}
    referenced |= {pid for group in data["postcodes"] for pid in group["exact"].values()}
    referenced |= {pid for group in data["postcode_prefixes"] for pid in group["prefixes"].values()}
    assert referenced <= NODE_IDS
    for section in ("aliases", "iata_codes", "postcodes", "postcode_prefixes"):
        assert all(group.get("source") for group in data[section]), section


def test_an_alias_names_one_place_only() -> None:
    data = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for group in data["aliases"]:
        for place_id, aliases in group["places"].items():
            for alias in aliases:
                assert seen.setdefault(alias.casefold(), place_id) == place_id, alias


def test_a_gazetteer_over_another_network_file(tmp_path: Path) -> None:
    network = {
        "nodes": [
            {
                "id": "x_one",
                "name": "Moscow",
                "lat": 1.0,
                "lon": 2.0,
                "country": "RU",
                "timezone": "Europe/Moscow",
                "role": "last_mile_city",
            }
        ]
    }
    path = tmp_path / "network.json"
    path.write_text(json.dumps(network), encoding="utf-8")
    small = Gazetteer.from_network(path)
    assert place_of("Москва") == "ru_moscow"
    assert small.resolve("Москва") is None  # the alias names a node this network does not have
    match = small.resolve("Moscow")
    assert match is not None and match.place_id == "x_one"


optional_text = st.none() | st.text(max_size=200)


@given(name=optional_text, country=optional_text, postcode=optional_text, code=optional_text)
def test_resolve_never_raises_and_answers_only_with_network_nodes(
    name: str | None, country: str | None, postcode: str | None, code: str | None
) -> None:
    match = gazetteer.resolve(name, country=country, postcode=postcode, code=code)
    assert match is None or match.place_id in NODE_IDS


@given(
    name=st.text(max_size=60) | st.sampled_from(["Москва", "深圳 hub", "MOW", "Hong Kong", "Внуково"]),
    country=st.sampled_from(["RU", "CN", "KZ", "MN"]),
    postcode=st.none() | st.from_regex(r"[0-9]{6}", fullmatch=True),
)
def test_answers_respect_the_country(name: str, country: str, postcode: str | None) -> None:
    match = gazetteer.resolve(name, country=country, postcode=postcode)
    allowed = {"CN", "HK"} if country == "CN" else {country}
    assert match is None or match.country in allowed
