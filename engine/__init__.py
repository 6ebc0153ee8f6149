"""The helpdesk core: catalog, storage, tickets, notifications, jobs, search. No Flask, no telebot, no processes (app/)."""
