/* Database restarts: the server answers Dash's requests with 503
   {"error": "database temporarily unavailable, retrying"} while the database is down. Instead of
   failing silently, show a Bootstrap alert and retry the same request with backoff (about two
   minutes in all); the alert goes away with the first answer that is not a 503.
   Sessions that ended (logout elsewhere, disabled user, expired cookie): the server answers 401;
   send the browser to the login page, coming back to the same view afterwards. */
(function () {
    if (!window.fetch || window.arDbRetry) { return; }
    window.arDbRetry = true;
    var original = window.fetch.bind(window);
    var DELAYS = [1000, 2000, 3000, 5000, 5000, 10000, 10000, 15000, 15000, 20000, 20000, 20000];
    var box = null;

    function show() {
        if (box) { return; }
        box = document.createElement("div");
        box.className = "alert alert-warning shadow-sm ar-db-alert";
        box.setAttribute("role", "alert");
        box.style.cssText = "position:fixed;top:0.5rem;left:50%;transform:translateX(-50%);z-index:2000;";
        box.textContent = "The database is temporarily unavailable; retrying\u2026";
        document.body.appendChild(box);
    }

    function hide() {
        if (box) { box.remove(); box = null; }
    }

    function wait(ms) {
        return new Promise(function (resolve) { setTimeout(resolve, ms); });
    }

    async function retrying(input, init) {
        var response = await original(input, init);
        for (var i = 0; i < DELAYS.length && response.status === 503; i++) {
            show();
            await wait(DELAYS[i]);
            response = await original(input, init);
        }
        if (response.status !== 503) { hide(); }
        if (response.status === 401) {
            var here = window.location.pathname + window.location.search;
            window.location.assign("/login?next=" + encodeURIComponent(here));
        }
        return response;
    }

    window.fetch = function (input, init) {
        var url = typeof input === "string" ? input : (input && input.url) || "";
        if (url.indexOf("/_dash-") === -1 || url.indexOf("/_dash-component-suites/") !== -1) {
            return original(input, init);
        }
        return retrying(input, init);
    };
})();
