"""A real browser for the pages: Debian's chromium driven by Selenium through chromium-driver
(both installed by deploy/install.sh). The browser tests and deploy/screenshots.py use it."""
from __future__ import annotations

import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

LAPTOP = (1280, 900)
PHONE = (390, 844)


def browser_problem() -> str | None:
    """Why no browser can be driven here, or None when one can."""
    missing = [tool for tool in ("chromium", "chromedriver") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed (deploy/install.sh installs them)" \
        if missing else None


def chromium(download_dir: Path | None = None, size: tuple[int, int] = LAPTOP):
    """Headless chromium; files it downloads land in ``download_dir``."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    if download_dir is not None:
        options.add_experimental_option("prefs", {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def log_in(driver, base_url: str, login: str, token: str, next_path: str = "/") -> None:
    """Through the login form, as a person would; ends on ``next_path``."""
    driver.delete_all_cookies()
    driver.get(f"{base_url}/login?next={next_path}")
    form = driver.find_element(By.ID, "login-form")
    form.find_element(By.NAME, "login").send_keys(login)
    form.find_element(By.NAME, "token").send_keys(token)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 15).until(lambda d: "/login" not in d.current_url,
                                    f"the login form did not take {login}'s token")


def click_through(driver, element, timeout: float = 30) -> None:
    """Click a link or submit button and wait until the page it was on has been replaced, so
    that what is read next comes from the page the click loaded (a read straight after
    ``click()`` may still see the old page, or a page half torn down)."""
    old_page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, timeout).until(expected_conditions.staleness_of(old_page),
                                         "the click did not load a new page")


def full_page_screenshot(driver, path: Path, width: int | None = None) -> Path:
    """The whole page (not only the window) as a PNG; the window is set back afterwards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    before = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width or before["width"], min(max(height, 400), 6000))
    driver.save_screenshot(str(path))
    driver.set_window_size(before["width"], before["height"])
    return path
