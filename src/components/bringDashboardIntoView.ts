/**
 * Brings the dashboard (run status and live charts) into view when a run starts from the form:
 * Train sits at the end of a form that can be longer than the window (a method's options), and
 * a person who presses it wants to watch the run. Nothing moves when the dashboard's top is
 * already on screen; the scroll is instant when the person prefers reduced motion.
 */
export function bringDashboardIntoView(): void {
  const dashboard = document.querySelector<HTMLElement>('main.dashboard');
  if (!dashboard) return;
  const top = dashboard.getBoundingClientRect().top;
  if (top >= 0 && top < window.innerHeight / 2) return;
  const reduced = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;
  dashboard.scrollIntoView({ block: 'start', behavior: reduced ? 'auto' : 'smooth' });
}
