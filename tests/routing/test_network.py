"""The network loads from its data file, validates it and names the faulty node or edge."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from routing.errors import NetworkError, UnknownPlace
from routing.network import NETWORK_FILE, load_network, network_from_dict


def raw() -> dict[str, Any]:
    with NETWORK_FILE.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def test_bundled_network_loads_with_sources_and_distances() -> None:
    network = load_network()
    # 95 of the China→Russia draft and two Chinese exchange offices of the reverse corridor.
    assert len(network.places) == 97
    assert {p.id for p in network.places.values() if p.role == "import_exchange_cn"} == {
        "cn_imx_shanghai", "cn_imx_harbin",
    }
    leg = network.leg("cn_air_hgh", "ru_air_vko")
    assert leg is not None and leg.mode == "air"
    assert 6800 < leg.distance_km < 6950
    assert [s.id for s in network.leg_sources(leg)] == ["DGL_HGH", "REUTERS_2019", "ACN_2020"]


def test_network_is_loaded_once_and_cached() -> None:
    assert load_network() is load_network()


def test_days_are_converted_to_hours() -> None:
    leg = load_network().leg("cn_yiwu", "cn_manzhouli")
    assert leg is not None
    assert (leg.hours.min, leg.hours.typical, leg.hours.max) == (72.0, 96.0, 120.0)


def test_parallel_legs_are_kept_and_filtered_by_mode() -> None:
    network = load_network()
    assert {leg.mode for leg in network.legs_between("cn_manzhouli", "ru_zabaikalsk")} == {"rail", "truck"}
    truck = network.leg("cn_manzhouli", "ru_zabaikalsk", modes={"truck"})
    assert truck is not None and truck.mode == "truck"


def test_closed_exchange_office_is_inactive() -> None:
    network = load_network()
    assert not network.is_active("ru_mmpo_koltsovo")
    assert network.legs_between("ru_air_svx", "ru_mmpo_koltsovo") == ()


def test_edge_to_a_missing_node_is_named() -> None:
    data = raw()
    data["edges"][0]["target"] = "cn_nowhere"
    with pytest.raises(NetworkError, match=r"cn_shenzhen__cn_air_szx__truck.*'cn_nowhere' is not a node"):
        network_from_dict(data)


def test_times_out_of_order_are_named() -> None:
    data = raw()
    data["edges"][3]["transit_hours"] = {"min": 5, "typical": 2, "max": 8}
    with pytest.raises(NetworkError, match=r"cn_dongguan__cn_air_szx__truck.*min ≤ typical ≤ max"):
        network_from_dict(data)


def test_non_positive_time_is_rejected() -> None:
    data = raw()
    data["edges"][0]["transit_hours"] = {"min": 0, "typical": 2, "max": 8}
    with pytest.raises(NetworkError, match="min must be positive"):
        network_from_dict(data)


def test_bad_time_zone_and_swapped_coordinates_are_named() -> None:
    data = copy.deepcopy(raw())
    data["nodes"][0]["timezone"] = "Asia/Atlantis"
    data["nodes"][1]["lat"], data["nodes"][1]["lon"] = data["nodes"][1]["lon"], data["nodes"][1]["lat"]
    with pytest.raises(NetworkError) as caught:
        network_from_dict(data)
    problems = " | ".join(caught.value.problems)
    assert "node 'cn_shenzhen': unknown time zone 'Asia/Atlantis'" in problems
    assert "node 'cn_guangzhou': coordinates" in problems


def test_unknown_source_is_named() -> None:
    data = raw()
    data["edges"][30]["sources"] = ["NO_SUCH_SOURCE"]
    with pytest.raises(NetworkError, match="NO_SUCH_SOURCE"):
        network_from_dict(data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ru_moscow", "ru_moscow"), ("moscow", "ru_moscow"), ("Москва", "ru_moscow"), ("深圳", "cn_shenzhen")],
)
def test_places_resolve_by_id_or_name(text: str, expected: str) -> None:
    assert load_network().resolve(text, "destination") == expected


def test_unknown_place_names_the_field() -> None:
    with pytest.raises(UnknownPlace) as caught:
        load_network().resolve("Atlantis", "destination")
    assert caught.value.field == "destination"
    assert "Atlantis" in str(caught.value)
