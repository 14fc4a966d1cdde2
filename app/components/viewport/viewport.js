// The browser half of app/components/viewport: tell Python the window's size, once when it is not
// yet known (or known wrongly) and again after a resize. Python sizes the lecture's charts by it.
//
// Streamlit (st.components.v2) calls this on mount and whenever the data from Python changes;
// `data.known` is the size Python last stored, so a report that would change nothing is not sent.

const SLACK_PX = 16; // a change smaller than this (a scrollbar appearing) is not worth a rerun
const SETTLE_MS = 250; // a resize reports once it has stopped for this long

export default function ({ data, setStateValue }) {
  const known = (data && data.known) || null;
  const report = () => {
    const size = [window.innerWidth, window.innerHeight];
    if (!known || Math.abs(known[0] - size[0]) > SLACK_PX || Math.abs(known[1] - size[1]) > SLACK_PX) {
      setStateValue("size", size);
    }
  };
  report();
  let timer = null;
  const onResize = () => {
    clearTimeout(timer);
    timer = setTimeout(report, SETTLE_MS);
  };
  window.addEventListener("resize", onResize);
  return () => {
    window.removeEventListener("resize", onResize);
    clearTimeout(timer);
  };
}
