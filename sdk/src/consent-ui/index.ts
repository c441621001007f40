// Entry of atspark-consent.min.js, the optional banner and preference center beside atspark.min.js.
import { installConsentUi } from './install.js'

installConsentUi()
