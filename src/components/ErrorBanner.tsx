import { useLabStore } from '../state/labStore';

export function ErrorBanner() {
  const banner = useLabStore((s) => s.banner);
  const dismiss = useLabStore((s) => s.dismissBanner);
  if (!banner) return null;
  return (
    <div className={`banner banner-${banner.kind}`} role="alert" data-testid="error-banner">
      <span>{banner.message}</span>
      <button type="button" onClick={dismiss} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
