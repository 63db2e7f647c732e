"""The check-id catalogue the service reads (contract/check_ids.json) matches the suites."""
from contract.catalogue import catalogue, check_ids
from contract.modules import MILESTONE_IDS
from workers.catalogue import declared


def test_catalogue_matches_what_the_suites_and_milestones_declare():
    assert catalogue() == declared(), "contract/check_ids.json is stale: run python -m workers.catalogue"


def test_catalogue_knows_every_milestone_and_says_none_for_a_module_without_a_suite():
    assert all(check_ids(name) for name in MILESTONE_IDS)
    assert check_ids("02_tensor")[0].startswith("tensor.")
    assert check_ids("99_nothing") is None
