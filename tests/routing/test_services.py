"""Services carry parcels along their own waypoints, not along the network's shortest path."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from routing.errors import NoRoute, UnknownPlace, UnknownService
from routing.network import load_network
from routing.services import default_router, load_services, route_for


def test_every_service_has_names_in_three_languages_and_routes_for_every_region() -> None:
    catalog = load_services()
    assert {"premium_air", "standard_air", "economy_rail", "sea_rail_far_east"} <= set(catalog.services)
    for service in catalog.services.values():
        assert set(service.names) == {"en", "ru", "zh"}
        # Each direction's services route to every region of its destination country.
        regions = {r for r, places in catalog.regions.items() if all(
            load_network().place(p).country == service.destination_country for p in places)}
        assert set(service.routes) == regions


def test_russia_to_china_services_route_only_over_reverse_legs() -> None:
    network = load_network()
    route = route_for("ru_cn_post_air", "Москва", "上海")
    assert route == ["ru_moscow", "ru_mmpo_sheremetyevo", "ru_air_svo", "cn_air_pvg", "cn_imx_shanghai",
                     "cn_shanghai"]
    leg = network.leg("ru_air_svo", "cn_air_pvg")
    assert leg is not None and leg.flow == "RU>CN" and leg.frequency == "3/week"
    assert [s.id for s in network.leg_sources(leg)] == ["INFRANEWS_2023", "SM24_2023"]
    land = route_for("ru_cn_post_land", "Yekaterinburg", "Shanghai")
    assert land[:3] == ["ru_yekaterinburg", "ru_zabaikalsk", "cn_manzhouli"] and land[-1] == "cn_shanghai"
    assert route_for("ru_cn_post_land", "Vladivostok", "Harbin")[1:3] == ["ru_pogranichny", "cn_suifenhe"]
    # The China → Russia services do not take the reverse legs, nor carry into China.
    with pytest.raises(NoRoute):
        route_for("premium_air", "Moscow", "Shanghai")
    with pytest.raises(NoRoute):
        route_for("standard_air", "Moscow", "Novosibirsk")


def test_economy_rail_crosses_at_manzhouli_although_flying_is_shorter() -> None:
    route = route_for("economy_rail", "cn_yiwu", "ru_moscow")
    assert route[0] == "cn_yiwu" and route[-1] == "ru_moscow"
    assert "cn_manzhouli" in route and "ru_zabaikalsk" in route
    network = load_network()

    def hours(u: str, v: str, _: object) -> float | None:
        leg = network.leg(u, v)
        return None if leg is None else leg.hours.typical

    shortest = nx.dijkstra_path(network.graph, "cn_yiwu", "ru_moscow", weight=hours)
    assert "cn_manzhouli" not in shortest


def test_standard_air_goes_through_moscow_even_to_novosibirsk() -> None:
    standard = route_for("standard_air", "Hangzhou", "Novosibirsk")
    premium = route_for("premium_air", "Hangzhou", "Novosibirsk")
    assert "ru_asc_podolsk" in standard and "ru_lc_novosibirsk" not in standard
    assert premium == ["cn_hangzhou", "cn_air_hgh", "ru_air_ovb", "ru_lc_novosibirsk", "ru_novosibirsk"]


def test_sea_rail_sails_from_hong_kong_to_vladivostok() -> None:
    route = route_for("sea_rail_far_east", "Shenzhen", "Vladivostok")
    assert route == ["cn_shenzhen", "hk_hongkong", "ru_mmpo_vladivostok", "ru_vladivostok"]


def test_routes_never_use_a_closed_exchange_office() -> None:
    router = default_router()
    for code in router.catalog.services:
        for origin in ("cn_shenzhen", "cn_hangzhou", "cn_harbin"):
            try:
                route = router.route_for(code, origin, "ru_yekaterinburg")
            except NoRoute:
                continue
            assert "ru_mmpo_koltsovo" not in route


def test_every_consecutive_pair_of_a_route_is_a_leg_of_an_allowed_mode() -> None:
    router = default_router()
    service = router.catalog.get("premium_air")
    route = router.route_for("premium_air", "cn_shenzhen", "ru_novosibirsk")
    for a, b in itertools.pairwise(route):
        assert router.network.leg(a, b, service.modes) is not None


def test_unknown_origin_names_the_field() -> None:
    with pytest.raises(UnknownPlace) as caught:
        route_for("premium_air", "Atlantis", "Moscow")
    assert caught.value.field == "origin"


def test_unknown_service_names_the_field() -> None:
    with pytest.raises(UnknownService) as caught:
        route_for("teleport", "Shenzhen", "Moscow")
    assert caught.value.field == "service"


def test_impossible_route_raises_no_route() -> None:
    with pytest.raises(NoRoute) as caught:
        route_for("sea_rail_far_east", "cn_hangzhou", "ru_kazan")
    assert (caught.value.service, caught.value.origin, caught.value.destination) == (
        "sea_rail_far_east",
        "cn_hangzhou",
        "ru_kazan",
    )


def test_resume_drops_waypoints_the_parcel_has_passed() -> None:
    router = default_router()
    with pytest.raises(NoRoute):
        router.route_for("economy_rail", "ru_zabaikalsk", "ru_moscow")
    route = router.route_for("economy_rail", "ru_zabaikalsk", "ru_moscow", resume=True)
    assert route[0] == "ru_zabaikalsk" and route[-1] == "ru_moscow"


def test_service_serialises_for_the_api() -> None:
    data = load_services().get("premium_air").to_dict()
    assert data["code"] == "premium_air" and data["mode"] == "air"
    assert data["legs"]["siberia"][0] == ["role:export_gateway_air"]
