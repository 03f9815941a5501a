/* The Export menus (components/export_menu.py) are native <details>: close an open one on a click
 * outside it, on a click on one of its links (the download starts) and on Escape; opening one closes
 * the others. One listener for the whole document.
 */
(function () {
    "use strict";

    function closeAll(except) {
        document.querySelectorAll("details.ar-export-menu[open]").forEach(function (menu) {
            if (menu !== except) { menu.removeAttribute("open"); }
        });
    }

    document.addEventListener("click", function (event) {
        var menu = event.target && event.target.closest ? event.target.closest("details.ar-export-menu") : null;
        if (menu && event.target.closest("a")) {
            menu.removeAttribute("open"); // a link was chosen: its download starts
            return;
        }
        closeAll(menu);
    }, true);

    document.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { closeAll(null); }
    });
})();
