// The inline loader snippet, as the README shows it: not part of any bundle, so pages can paste it before the script tag.

/**
 * Defines `window.atspark` as a stub that records calls made before atspark.min.js has loaded
 * (`q` holds `[name, args]`, e.g. `['consent.set', [{ analytics: true }, 'banner']]`); the script
 * replays them after its own init, `init` calls first. Stubs return nothing: `consent.get`,
 * `prefs.get` and `flush()`'s promise need the loaded script. ES5, so any browser can parse it.
 */
export const SNIPPET =
  '!function(w,a,s){a=w.atspark=w.atspark||{q:[]};if(a.q){s=function(o,p,m){m.split(" ").forEach(function(n){o[n]=function(){a.q.push([p+n,[].slice.call(arguments)])}})};s(a,"","init page track query dashboard feature identify reset flush");s(a.consent=a.consent||{},"consent.","set onChange");s(a.prefs=a.prefs||{},"prefs.","set")}}(window);'
