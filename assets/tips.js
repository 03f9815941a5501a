/* Place an (i)'s explanation (components/tips.py; shown by CSS while the (i) is hovered or focused)
 * below it, or above it near the bottom of the screen, and always inside the viewport. One listener
 * for the whole document: nothing runs until someone points at or focuses an (i).
 */
(function () {
    "use strict";
    var GAP = 6, EDGE = 8;

    function place(event) {
        var target = event.target;
        var info = target && target.closest ? target.closest(".ar-info") : null;
        var tip = info ? info.nextElementSibling : null;
        if (!tip || !tip.classList.contains("ar-tip")) { return; }
        window.requestAnimationFrame(function () {
            var vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
            tip.style.maxWidth = Math.min(380, vw - 2 * EDGE) + "px"; // 100vw would count a scrollbar
            var r = info.getBoundingClientRect();
            var w = tip.offsetWidth, h = tip.offsetHeight;
            var left = Math.max(EDGE, Math.min(r.left + r.width / 2 - w / 2, vw - w - EDGE));
            var top = r.bottom + GAP + h > vh - EDGE ? Math.max(EDGE, r.top - GAP - h) : r.bottom + GAP;
            tip.style.left = left + "px";
            tip.style.top = top + "px";
        });
    }

    document.addEventListener("mouseover", place, true);
    document.addEventListener("focusin", place, true);
})();
