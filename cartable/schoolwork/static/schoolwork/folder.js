// The folder « Travail » page: nothing more than the server's page needs today; kept for
// the page's module script (the list is rendered by the server, by date).
