/* The first page comes drawn inside the layout (dashboard/components/page_container.py), built for
 * the address the layout request's Referer names. If that is not the address the browser shows (a
 * browser that trims the Referer), tell Dash's page Location and the shell's the real one: the
 * router then draws the right page and the shell its filters, exactly as without the drawn first
 * page. Checked once, when the page container first appears.
 */
(function () {
    "use strict";
    var done = false;

    function check() {
        if (done) { return true; }
        var box = document.getElementById("_pages_content");
        var set = window.dash_clientside && window.dash_clientside.set_props;
        if (!box || !set) { return false; }
        done = true;
        var drawn = box.getAttribute("data-first-page");
        var here = window.location.pathname + window.location.search;
        if (drawn !== null && drawn !== here) {
            var address = { pathname: window.location.pathname, search: window.location.search };
            set("_pages_location", address);
            set("url", address);
        }
        return true;
    }

    function watch() {
        if (check()) { return; }
        var observer = new MutationObserver(function () {
            if (check()) { observer.disconnect(); }
        });
        observer.observe(document.body, { childList: true, subtree: true });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", watch);
    } else {
        watch();
    }
})();
