"""A TA in a real browser: sort and filter the gradebook, override a grade with a reason and
find it in the audit log, regrade, export a CSV, look at the queue."""
from __future__ import annotations

import csv
import io

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from deploy.browser import LAPTOP, PHONE, click_through, log_in


def _column(driver, assignment: str) -> list[tuple[str, float | None]]:
    """(login, points) down the gradebook's column for ``assignment``."""
    found = []
    for row in driver.find_elements(By.CSS_SELECTOR, "#gradebook tbody tr"):
        cell = row.find_element(By.CSS_SELECTOR, f'td[data-assignment="{assignment}"]')
        text = cell.text.split()[0]
        found.append((row.get_attribute("data-login"),
                      None if text in ("–", "EX") else float(text)))
    return found


def test_gradebook_sorts_and_filters_by_section(graded, web_stack, driver, shot):
    stack, _ = web_stack
    classroom = graded.classroom
    log_in(driver, stack.api_url, *classroom.instructor, f"/courses/{classroom.slug}/gradebook")
    assert driver.find_elements(By.CSS_SELECTOR, "tr.stats svg.histogram")
    click_through(driver, driver.find_element(By.LINK_TEXT, "03_activations"))
    ascending = [p for _, p in _column(driver, "03_activations")]
    assert "order=asc" in driver.current_url and ascending == sorted(ascending)
    click_through(driver, driver.find_element(By.LINK_TEXT, "03_activations"))
    descending = [p for _, p in _column(driver, "03_activations")]
    assert "order=desc" in driver.current_url and descending == sorted(descending, reverse=True)
    Select(driver.find_element(By.NAME, "section")).select_by_visible_text("B")
    click_through(driver, driver.find_element(By.CSS_SELECTOR, "#section-filter button"))
    assert [login for login, _ in _column(driver, "01_setup")] == ["ben"]
    shot("section-B")
    driver.set_window_size(*PHONE)
    try:   # on a phone the table scrolls inside its box; the page itself does not
        driver.get(f"{stack.api_url}/courses/{classroom.slug}/gradebook")
        assert driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot("phone")
    finally:
        driver.set_window_size(*LAPTOP)


def test_override_with_a_reason_then_regrade_and_export(graded, web_stack, driver, downloads,
                                                        shot):
    stack, _ = web_stack
    classroom, submission = graded.classroom, graded.submissions["cy"]
    log_in(driver, stack.api_url, *classroom.instructor, f"/submissions/{submission}")
    form = driver.find_element(By.CSS_SELECTOR, "#grade-01_setup form.override-form")
    form.find_element(By.NAME, "points").send_keys("9.5")
    form.find_element(By.NAME, "reason").send_keys("BLAS check re-marked by hand")
    click_through(driver, form.find_element(By.TAG_NAME, "button"))
    assert "cy's 01_setup is now 9.5 points" in driver.find_element(By.CLASS_NAME, "flash").text
    assert "does not count: an override" in driver.find_element(
        By.CSS_SELECTOR, "#grade-01_setup .counts").text

    driver.get(f"{stack.api_url}/courses/{classroom.slug}/gradebook")
    marker = driver.find_element(
        By.CSS_SELECTOR, 'tr[data-login="cy"] td[data-assignment="01_setup"] a.override')
    assert marker.get_attribute("title") == \
        f"override by {classroom.instructor[0]}: BLAS check re-marked by hand"
    click_through(driver, marker)
    entry = driver.find_element(By.CSS_SELECTOR, "#audit tr[id^=event-]")
    assert "BLAS check re-marked by hand" in entry.text and "override" in entry.text

    driver.get(f"{stack.api_url}/courses/{classroom.slug}/gradebook")
    driver.find_element(By.CSS_SELECTOR, '#export-form button[value="canvas"]').click()
    exported = downloads / f"{classroom.slug}-canvas.csv"
    WebDriverWait(driver, 30).until(lambda _: exported.exists())
    rows = list(csv.DictReader(io.StringIO(exported.read_text())))
    cy = next(row for row in rows if row.get("SIS Login ID") == "cy")
    assert "9.50" in cy.values()

    driver.get(f"{stack.api_url}/submissions/{submission}")
    regrade = driver.find_element(By.ID, "regrade-form")
    regrade.find_element(By.NAME, "reason").send_keys("worker image fixed")
    click_through(driver, regrade.find_element(By.TAG_NAME, "button"))
    assert f"Regrade of submission {submission} requested." in driver.find_element(
        By.CLASS_NAME, "flash").text
    audit = classroom.api("GET", f"/courses/{classroom.slug}/audit").json()["items"]
    assert ("regrade", "worker image fixed") in {(e["action"], e["reason"]) for e in audit}
    driver.get(f"{stack.api_url}/courses/{classroom.slug}/queue")
    assert driver.find_element(By.ID, "queue")
    shot("queue")
    classroom.wait_finished({submission}, 300)   # leave no job running for later tests
