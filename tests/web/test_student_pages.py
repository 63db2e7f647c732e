"""A student in a real browser: log in through the form, push with git, watch the page go
from queued to graded without reloading it, open a traceback; on a phone too."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from deploy.browser import LAPTOP, PHONE, log_in

GRADING_TIMEOUT_S = 300


def status(driver) -> str:
    return driver.find_element(By.ID, "status").text


def test_a_push_goes_from_queued_to_graded_on_the_open_page(graded, web_stack, driver, shot):
    stack, _ = web_stack
    classroom = graded.classroom
    log_in(driver, stack.api_url, "ben", classroom.tokens["ben"], f"/courses/{classroom.slug}/")
    assert driver.find_elements(By.ID, "pushes")                    # "my course"
    # Cy pushes first, so Ben's push waits in the queue behind it (one grading process).
    graded.clones["cy"].push(None, "cy again")
    push = graded.clones["ben"].push(graded.packages["ada"], "copied the reference")
    assert f"/submissions/{push.submission_id}" in push.output   # the link the push prints
    driver.get(f"{stack.api_url}/submissions/{push.submission_id}")
    assert status(driver) in ("queued", "running")
    shot("waiting")
    driver.execute_script("window.stillTheSamePage = true;")
    WebDriverWait(driver, GRADING_TIMEOUT_S, poll_frequency=0.5).until(
        lambda d: status(d) == "graded")
    WebDriverWait(driver, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#module-01_setup .points"))
    assert driver.execute_script("return window.stillTheSamePage") is True   # no reload
    points = driver.find_element(By.CSS_SELECTOR, "#module-01_setup .points").text
    assert points == "10.00 / 10 points"


def test_the_starters_errors_are_grouped_and_a_traceback_opens(graded, web_stack, driver, shot):
    stack, _ = web_stack
    log_in(driver, stack.api_url, "ben", graded.classroom.tokens["ben"],
           f"/submissions/{graded.submissions['ben']}")
    groups = driver.find_elements(By.CSS_SELECTOR, ".group strong")
    assert groups and all(g.text.startswith("The same error in ") for g in groups)
    assert driver.find_elements(By.CLASS_NAME, "hidden-count")
    summary = driver.find_element(By.CSS_SELECTOR, "details.traceback summary")
    trace = driver.find_element(By.CSS_SELECTOR, "details.traceback pre")
    assert not trace.is_displayed()
    summary.click()
    assert trace.is_displayed() and "NotImplementedError" in trace.text
    shot("traceback")


def test_pages_fit_a_phone_and_hide_other_students(graded, web_stack, driver, shot):
    stack, _ = web_stack
    classroom = graded.classroom
    log_in(driver, stack.api_url, "cy", classroom.tokens["cy"], f"/courses/{classroom.slug}/")
    driver.set_window_size(*PHONE)
    try:
        for path in (f"/courses/{classroom.slug}/", f"/submissions/{graded.submissions['cy']}"):
            driver.get(stack.api_url + path)
            assert driver.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth + 1"), path
        shot("phone")
    finally:
        driver.set_window_size(*LAPTOP)
    driver.get(f"{stack.api_url}/submissions/{graded.submissions['ada']}")
    assert driver.find_element(By.TAG_NAME, "h1").text == "404 Not Found"
